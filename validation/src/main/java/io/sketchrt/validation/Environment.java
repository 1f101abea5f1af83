package io.sketchrt.validation;

import io.sketchrt.format.SketchrtVersion;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Where a validation ran: CPU, threads, backend, versions. */
final class Environment {
  private Environment() {}

  static Map<String, String> describe(LoadOptions options) {
    Map<String, String> env = new LinkedHashMap<>();
    OrtOptions ort = options.get(OrtOptions.class, OrtOptions::defaults);
    env.put("sketchrt", SketchrtVersion.VERSION);
    env.put("backend", options.backend());
    env.put(
        "intra-op threads",
        ort.intraOpThreads() == 0
            ? "default (one per core)"
            : Integer.toString(ort.intraOpThreads()));
    env.put("ONNX Runtime optimisation", ort.optimizationLevel().name());
    env.put("SketchMatMul kernel", ort.kernel() == null ? "default (sketch)" : ort.kernel().name());
    env.put("ONNX Runtime", ortVersion());
    env.put("CPU", cpuModel());
    env.put("CPUs", Integer.toString(Runtime.getRuntime().availableProcessors()));
    env.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    env.put(
        "OS",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    return env;
  }

  private static String ortVersion() {
    try {
      return io.sketchrt.runtime.ort.OrtEnvironments.get().getVersion();
    } catch (io.sketchrt.runtime.SketchrtException | RuntimeException | LinkageError e) {
      return "unavailable (" + e.getClass().getSimpleName() + ")";
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }
}
