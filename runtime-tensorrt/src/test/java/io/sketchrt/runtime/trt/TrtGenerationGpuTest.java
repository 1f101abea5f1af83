package io.sketchrt.runtime.trt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sketchrt.converter.ConversionListener;
import io.sketchrt.converter.Converter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.TrtOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a GPU with the plugin: a committed fixture converted to fp16 generates the same greedy tokens
 * with backend trt as with ort-cpu, alone, in a left-padded batch and from several threads, and the
 * second load reuses the cached engine. Skips, saying why, anywhere else.
 */
class TrtGenerationGpuTest {

  @Test
  void greedyTokensMatchOnnxRuntimeCpu(@TempDir Path tmp) throws Exception {
    Skip.unless(
        CudaDriver.libraryPresent(), "no NVIDIA driver (libcuda.so.1): backend trt needs a GPU");
    try {
      CudaDriver.probe();
    } catch (SketchrtException e) {
      Skip.unless(false, e.getMessage());
    }
    Path plugin = FakeDriverTest.pluginLibrary();
    Skip.unless(
        plugin != null,
        "no TensorRT-11 build of libsketchrt_trt_plugin_dynamic.so (set "
            + TrtOptions.PLUGIN_ENV
            + ")");

    Path fixture = TestData.fixture("llama2_mha_g1_2d");
    Path model = tmp.resolve("model");
    Converter.convert(
        new Converter.Request(
            fixture.resolve("hf"),
            fixture.resolve("sketch.pkl"),
            Files.exists(fixture.resolve("tuned")) ? fixture.resolve("tuned") : null,
            model,
            DType.F16,
            Target.PORTABLE,
            false),
        ConversionListener.silent());
    Path engines = tmp.resolve("engines");
    LoadOptions trt =
        LoadOptions.defaults()
            .withBackend(TrtBackend.NAME)
            .with(
                TrtOptions.defaults()
                    .withPluginLibrary(plugin)
                    .withEngineCache(engines)
                    .withMaxBatch(4)
                    .withMaxSequence(64));
    GenerationConfig greedy =
        GenerationConfig.builder().maxNewTokens(12).eosTokenIds(List.of()).build();
    List<long[]> prompts =
        List.of(
            new long[] {1, 45, 221, 199},
            new long[] {1, 90},
            new long[] {1, 311, 26, 93, 72}); // vocab 320

    List<long[]> expected = new ArrayList<>();
    try (Model cpu = Model.load(model)) {
      for (long[] p : prompts) {
        expected.add(cpu.generatorForTokens(List.of(p), greedy).run(null).getFirst().tokens());
      }
    }
    long start = System.nanoTime();
    try (Model gpu = Model.load(model, trt)) {
      System.out.printf(
          "trt: engine built and loaded in %.1f s%n", (System.nanoTime() - start) / 1e9);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(
            expected.get(i),
            gpu.generatorForTokens(List.of(prompts.get(i)), greedy).run(null).getFirst().tokens(),
            "prompt " + i + " alone");
      }
      var batch = gpu.generatorForTokens(prompts, greedy).run(null);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(expected.get(i), batch.get(i).tokens(), "prompt " + i + " in a batch");
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<long[]>> futures = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
          for (long[] p : prompts) {
            futures.add(
                pool.submit(
                    () ->
                        gpu.generatorForTokens(List.of(p), greedy).run(null).getFirst().tokens()));
          }
        }
        for (int i = 0; i < futures.size(); i++) {
          assertArrayEquals(
              expected.get(i % prompts.size()), futures.get(i).get(), "thread task " + i);
        }
      } finally {
        pool.shutdown();
      }
    }
    try (Model again = Model.load(model, trt);
        Stream<Path> files = Files.list(engines)) {
      assertEquals(
          1, files.count(), "the second load built another engine instead of using the cached one");
      assertArrayEquals(
          expected.getFirst(),
          again
              .generatorForTokens(List.of(prompts.getFirst()), greedy)
              .run(null)
              .getFirst()
              .tokens());
    }
  }
}
