package io.sketchrt.cli;

import io.sketchrt.converter.ConversionListener;
import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Conversion progress: a live bar (me.tongfei:progressbar) on a terminal, plain lines otherwise.
 */
final class ConversionProgress implements ConversionListener, AutoCloseable {
  private final ConversionListener lines;
  private final boolean terminal;
  private ProgressBar bar;

  ConversionProgress(PrintWriter err, boolean terminal) {
    this.lines = ConversionListener.lines(err);
    this.terminal = terminal;
  }

  /**
   * Whether stdout and stderr are a terminal (System.console() is null when either is redirected).
   */
  static boolean onTerminal() {
    var console = System.console();
    return console != null && console.isTerminal();
  }

  @Override
  public void started(String description, int layers) {
    if (!terminal) {
      lines.started(description, layers);
      return;
    }
    System.err.println("sketchrt: " + description);
    bar =
        new ProgressBarBuilder()
            .setTaskName("layers")
            .setInitialMax(layers)
            .setStyle(ProgressBarStyle.ASCII)
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .showSpeed()
            .build();
  }

  @Override
  public void layer(int layer, long bytes) {
    if (bar == null) {
      lines.layer(layer, bytes);
      return;
    }
    bar.stepTo(layer);
    bar.setExtraMessage(String.format("%.0f MB", bytes / 1e6));
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.stepTo(bar.getMax());
      bar.close();
    }
  }
}
