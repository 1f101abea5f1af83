package io.sketchrt.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;

/**
 * Renders a local HTML file in Debian's headless Chromium (installed by make test) and reads the
 * screenshot.
 */
final class Headless {
  private Headless() {}

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  record Screenshot(BufferedImage image) {
    /** Pixels within a small distance of {@code rgb}. */
    int pixelsNear(int rgb) {
      int count = 0;
      for (int y = 0; y < image.getHeight(); y++) {
        for (int x = 0; x < image.getWidth(); x++) {
          int p = image.getRGB(x, y);
          int dr = ((p >> 16) & 0xFF) - ((rgb >> 16) & 0xFF);
          int dg = ((p >> 8) & 0xFF) - ((rgb >> 8) & 0xFF);
          int db = (p & 0xFF) - (rgb & 0xFF);
          if (dr * dr + dg * dg + db * db < 40 * 40) {
            count++;
          }
        }
      }
      return count;
    }
  }

  static Screenshot screenshot(Path html, Path png) throws IOException, InterruptedException {
    // Not test data: a system package that make test installs (announcing it) where it can.
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM),
        CHROMIUM
            + " is missing, so the report is not rendered: make test installs Debian's chromium"
            + " (apt-get install chromium) unless SKETCHRT_NO_SYSTEM_INSTALL is set or it lacks root");
    Path profile = Files.createTempDirectory("sketchrt-chromium");
    Process p =
        new ProcessBuilder(
                List.of(
                    CHROMIUM.toString(),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--user-data-dir=" + profile,
                    "--window-size=900,1400",
                    "--screenshot=" + png,
                    html.toUri().toString()))
            .redirectErrorStream(true)
            .start();
    String log = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(png)) {
      throw new AssertionError("chromium did not render " + html + ": " + log);
    }
    return new Screenshot(ImageIO.read(png.toFile()));
  }
}
