package io.sketchrt.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

/**
 * The JVM options that Surefire and {@code ./sketchrt spark} start Spark with (the POM's {@code
 * spark.jvm.options}) hold every option spark-submit itself adds, so a Spark upgrade that needs a
 * new one fails here rather than deep in a job.
 */
class SparkJvmOptionsTest {
  @Test
  void holdEverythingSparkSubmitAdds() throws Exception {
    String text;
    try (InputStream in =
        SparkJvmOptionsTest.class.getResourceAsStream("/sketchrt-spark.jvm-options")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> ours = List.of(text.strip().split("\\s+"));
    for (String needed : JavaModuleOptions.defaultModuleOptionArray()) {
      assertTrue(ours.contains(needed), "spark.jvm.options lacks " + needed);
    }
  }
}
