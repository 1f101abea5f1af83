package io.sketchrt.converter.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Benchmark, not a test: times reading the repository's real pickles (the bundled example and the
 * fixtures) so the unpickler's budgets can be priced on the normal path. Run from the repository
 * root with the converter's test classpath: {@code java -cp ... PickleReadBench [rounds]}.
 */
public final class PickleReadBench {
  private PickleReadBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    List<Path> files = new ArrayList<>();
    files.add(Path.of("examples/arith/sketch.pkl"));
    files.add(Path.of("examples/arith/tuned/sketched_params.pkl"));
    try (Stream<Path> s = Files.walk(Path.of("testdata/fixtures"))) {
      s.filter(p -> p.toString().endsWith(".pkl")).sorted().forEach(files::add);
    }
    long totalBytes = 0;
    for (Path p : files) {
      totalBytes += Files.size(p);
    }
    for (Path p : files) {
      byte[] b = Files.readAllBytes(p);
      PickleBudget budget = new PickleBudget(b.length);
      TorchPickle.load(p.toString(), java.lang.foreign.MemorySegment.ofArray(b), budget);
      System.out.printf(
          "%-60s %9d bytes: %6d values (limit %d), %7d bytes materialised%n",
          p, b.length, budget.objectsUsed(), budget.objectLimit(), budget.bytesUsed());
    }
    for (int i = 0; i < 50; i++) { // warm-up
      readAll(files);
    }
    double[] ms = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      readAll(files);
      ms[r] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    System.out.printf(
        "read %d pickles (%d bytes) x %d rounds: min %.3f ms, median %.3f ms, max %.3f ms%n",
        files.size(), totalBytes, rounds, ms[0], ms[rounds / 2], ms[rounds - 1]);
  }

  private static void readAll(List<Path> files) throws CheckpointException {
    for (Path p : files) {
      if (p.getParent().getFileName().toString().equals("tuned")) {
        SketchPickles.readTuned(p);
      } else {
        SketchPickles.readBase(p);
      }
    }
  }
}
