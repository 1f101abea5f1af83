package io.sketchrt.spark;

import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.Scheduler;
import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

/**
 * The model of this JVM: loaded by the first task that asks, then shared by every task of the
 * executor, with one {@link EngineLoop} over it. Tasks running at once therefore feed the same
 * batch, and rows of different tuned sets share decode steps.
 */
final class ExecutorModel {
  private ExecutorModel() {}

  /** A loaded model and the engine loop every task submits to. */
  record Loaded(Model model, EngineLoop loop) {}

  private static final Map<String, Loaded> LOADED = new HashMap<>();
  private static int loads;

  /** The model named {@code model} (see {@link #resolve}), loaded once per JVM. */
  static synchronized Loaded get(String model) throws SketchrtException, SparkJobException {
    Loaded l = LOADED.get(model);
    if (l == null) {
      quietTokenizerLog();
      Model m = Model.load(resolve(model));
      try {
        l = new Loaded(m, EngineLoop.start(m, Scheduler.defaults()));
      } catch (SketchrtException | RuntimeException e) {
        m.close();
        throw e;
      }
      LOADED.put(model, l);
      loads++;
    }
    return l;
  }

  /** Models this JVM has loaded so far (for the test that all tasks share one). */
  static synchronized int loads() {
    return loads;
  }

  /**
   * Where the model is on this machine: {@code model} itself when it is a directory here (a path
   * every executor shares), else the directory of that name that spark-submit's {@code --archives}
   * unpacked for this JVM.
   */
  static Path resolve(String model) throws SparkJobException {
    Path path = Path.of(model);
    if (Files.isDirectory(path)) {
      return path;
    }
    if (SparkEnv.get() != null) {
      Path shipped = Path.of(SparkFiles.get(path.getFileName().toString()));
      if (Files.isDirectory(shipped)) {
        return shipped;
      }
    }
    throw new SparkJobException(
        "--model "
            + model
            + ": no such directory here, nor shipped with spark-submit --archives under that name");
  }

  /**
   * The tokenizer library (DJL) warns through SLF4J, on every CPU-only machine, that it found no
   * GPU; the sketchrt command silences it, and under Spark (log4j 2) so does this.
   */
  private static void quietTokenizerLog() {
    try {
      org.apache.logging.log4j.core.config.Configurator.setLevel(
          "ai.djl", org.apache.logging.log4j.Level.ERROR);
    } catch (LinkageError e) { // a Spark without log4j-core: its warnings stay
    }
  }

  /** Closes every model this JVM loaded (the in-process driver, once its job ended). */
  static synchronized void closeAll() {
    for (Loaded l : LOADED.values()) {
      l.loop().close();
      l.model().close();
    }
    LOADED.clear();
  }
}
