package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.spi.Backends;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad model directories and backends fail with one line naming the problem. */
class ModelLoadTest {

  private static String failure(Path dir, String backend) {
    SketchrtException e =
        assertThrows(SketchrtException.class, () -> Model.load(dir, backend).close());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void backendsAreFoundByName() throws SketchrtException {
    List<String> names = Backends.available().stream().map(Backends.Status::name).toList();
    assertTrue(names.containsAll(List.of("ort-cpu", "ort-cuda")), names.toString());
    assertEquals("ort-cpu", Backends.find("ort-cpu").name());
    String msg = failure(ToyModel.dir(), "tensorrt-fake");
    assertTrue(
        msg.contains("unknown backend 'tensorrt-fake' (available: ") && msg.contains("ort-cpu"),
        msg);
  }

  /**
   * The test class path lists {@link BrokenBackend}, whose constructor throws, before the real
   * ones.
   */
  @Test
  void aBrokenProviderNeverStopsTheOthers() throws Exception {
    Backends.Status broken =
        Backends.available().stream()
            .filter(s -> s.name().equals(BrokenBackend.class.getName()))
            .findFirst()
            .orElseThrow();
    assertTrue(
        !broken.available() && broken.problem().contains("its native library is broken"),
        broken.toString());
    Backends.Status cpu =
        Backends.available().stream()
            .filter(s -> s.name().equals("ort-cpu"))
            .findFirst()
            .orElseThrow();
    assertTrue(cpu.available(), cpu.toString());
    try (Model m = Model.load(ToyModel.dir())) {
      assertEquals("ort-cpu", m.backendName());
    }
  }

  @Test
  void missingDirectoryCardAndGraph(@TempDir Path tmp) throws Exception {
    assertTrue(failure(tmp.resolve("nope"), "ort-cpu").contains("does not exist"));
    assertTrue(failure(tmp, "ort-cpu").contains("no sketchrt.json"));
    Path dir = ToyModel.copyTo(tmp.resolve("m"));
    Files.delete(dir.resolve("model.onnx"));
    assertTrue(failure(dir, "ort-cpu").contains("model.onnx is missing"));
  }

  @Test
  void corruptCardAndGraph(@TempDir Path tmp) throws Exception {
    Path dir = ToyModel.copyTo(tmp.resolve("m"));
    Files.writeString(dir.resolve("sketchrt.json"), "{ not json");
    assertTrue(failure(dir, "ort-cpu").contains("not valid JSON"));
    Path dir2 = ToyModel.copyTo(tmp.resolve("m2"));
    Files.write(dir2.resolve("model.onnx"), new byte[] {1, 2, 3, 4});
    assertTrue(failure(dir2, "ort-cpu").contains("ONNX Runtime cannot load"));
    Path dir3 = ToyModel.copyTo(tmp.resolve("m3"));
    Files.writeString(
        dir3.resolve("sketchrt.json"),
        Files.readString(dir3.resolve("sketchrt.json"))
            .replace("\"num_layers\": 2", "\"num_layers\": 3"));
    assertTrue(failure(dir3, "ort-cpu").contains("no input past_key_values.2.key"));
  }

  @Test
  void modelForAnotherTargetIsRejected(@TempDir Path tmp) throws Exception {
    Path dir = ToyModel.copyTo(tmp.resolve("m"));
    Files.writeString(
        dir.resolve("sketchrt.json"),
        Files.readString(dir.resolve("sketchrt.json")).replace("\"portable\"", "\"ort-tensorrt\""));
    String msg = failure(dir, "ort-cpu");
    assertTrue(
        msg.contains("converted for target 'ort-tensorrt'") && msg.contains("backend 'ort-cpu'"),
        msg);
  }

  @Test
  void cudaWithoutTheGpuBuildSaysWhatIsMissing() {
    Assumptions.assumeFalse(
        OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
        "this ONNX Runtime has the CUDA provider; the missing-provider message cannot be tested here");
    String msg = failure(ToyModel.dir(), "ort-cuda");
    assertTrue(
        msg.startsWith(
            "the ONNX Runtime CUDA provider is not available: put com.microsoft.onnxruntime:onnxruntime_gpu"),
        msg);
  }

  @Test
  void cardFieldsAreRead() throws Exception {
    ModelCard card = ModelCard.read(ToyModel.dir());
    assertEquals(2, card.numLayers());
    assertEquals(Target.PORTABLE, card.target());
    assertEquals(List.of(2), card.eosTokenIds());
    assertEquals(64, card.maxPositionEmbeddings());
  }
}
