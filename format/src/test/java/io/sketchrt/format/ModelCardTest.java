package io.sketchrt.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCardTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static ModelCard sample() {
    return new ModelCard(
        "0.1.0",
        "LlamaForCausalLM",
        Target.PORTABLE,
        ActivationType.FP32,
        "model.onnx",
        null,
        2,
        64,
        4,
        2,
        16,
        320,
        128,
        1,
        List.of(2),
        new ModelCard.Sketch(List.of(4), List.of(1, 4), 14, true),
        Map.of("sketch", new ModelCard.Source("s.pkl", "a".repeat(64))));
  }

  @Test
  void writesAndReadsBack(@TempDir Path dir) throws Exception {
    ModelCard card = sample();
    card.write(dir.resolve(ModelCard.FILE_NAME));
    assertEquals(card, ModelCard.read(dir));
  }

  @Test
  void missingFieldNamesFileAndField(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    json.remove("head_dim");
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    FormatException e = assertThrows(FormatException.class, () -> ModelCard.read(dir));
    assertTrue(
        e.getMessage().contains(ModelCard.FILE_NAME)
            && e.getMessage().contains("\"head_dim\"")
            && e.getMessage().contains("missing"),
        e.getMessage());
  }

  @Test
  void unknownTargetIsNamed(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    json.put("target", "ort-cpu");
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    FormatException e = assertThrows(FormatException.class, () -> ModelCard.read(dir));
    assertTrue(
        e.getMessage().contains("\"target\"")
            && e.getMessage().contains("'ort-cpu'")
            && e.getMessage().contains("portable, ort-tensorrt"),
        e.getMessage());
  }

  @Test
  void unknownAndMistypedFieldsAreRejected(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    json.put("num_layer", 3);
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    assertTrue(
        assertThrows(FormatException.class, () -> ModelCard.read(dir))
            .getMessage()
            .contains("unknown field \"num_layer\""));
    json = sample().toJson();
    ((ObjectNode) json.get("sketch")).put("tuned", "yes");
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    assertTrue(
        assertThrows(FormatException.class, () -> ModelCard.read(dir))
            .getMessage()
            .contains("\"sketch.tuned\" must be true or false"));
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), "{ not json");
    assertTrue(
        assertThrows(FormatException.class, () -> ModelCard.read(dir))
            .getMessage()
            .contains("not valid JSON"));
  }

  @Test
  void readsCardsOfModelsConvertedBeforeTheFormatModule(@TempDir Path dir) throws Exception {
    ObjectNode json = sample().toJson();
    ((ObjectNode) json.get("sketch"))
        .put("bits", 4); // older converters wrote one bits value as a number
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    assertEquals(List.of(4), ModelCard.read(dir).sketch().bits());
  }

  @Test
  void committedSchemaIsTheGeneratedOne() throws IOException {
    Path committed =
        TestData.committed(
            "format/src/main/resources/io/sketchrt/format/" + ModelCardSchema.RESOURCE);
    assertEquals(
        ModelCardSchema.text(),
        Files.readString(committed),
        "regenerate it: java -cp format/target/classes:... io.sketchrt.format.ModelCardSchema "
            + committed);
  }

  private static ModelCard withSets() {
    return sample()
        .withTunedSets(
            new TunedSets(
                "chat",
                List.of(
                    new TunedSets.Entry("chat", "tuned/chat.safetensors", "a".repeat(64), 1234),
                    new TunedSets.Entry(
                        "sql-v2.1", "tuned/sql-v2.1.safetensors", "b".repeat(64), 99))));
  }

  @Test
  void tunedSetsRoundTripAndTheirNamesAreChecked(@TempDir Path dir) throws Exception {
    ModelCard card = withSets();
    card.write(dir.resolve(ModelCard.FILE_NAME));
    assertEquals(card.tunedSets(), ModelCard.read(dir).tunedSets());
    for (String bad : new String[] {"", "../x", "a/b", ".hidden", "x".repeat(65), "a b"}) {
      assertTrue(TunedSets.nameProblem(bad) != null, bad);
    }
    assertEquals(null, TunedSets.nameProblem("Llama3_chat-v1.2"));
    ObjectNode json = card.toJson();
    ((ObjectNode) json.get("tuned_sets").get("sets").get(1)).put("file", "../../etc/passwd");
    Files.writeString(dir.resolve(ModelCard.FILE_NAME), json.toString());
    FormatException e = assertThrows(FormatException.class, () -> ModelCard.read(dir));
    assertTrue(
        e.getMessage().contains("must be stored in tuned/sql-v2.1.safetensors"), e.getMessage());
  }

  @Test
  void schemaListsExactlyTheFieldsTheWriterWrites() {
    JsonNode schema = ModelCardSchema.schema();
    ObjectNode card = sample().toJson();
    // tuned_sets is optional: cards of models converted before tuned sets lack it
    assertEquals(names(withSets().toJson()), names(schema.get("properties")));
    assertEquals(names(card), new TreeSet<>(values(schema.get("required"))));
    assertEquals(
        names(card.get("sketch")), names(schema.get("properties").get("sketch").get("properties")));
  }

  private static Set<String> names(JsonNode n) {
    Set<String> out = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  private static List<String> values(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(e -> out.add(e.asText()));
    return out;
  }

  @Test
  void targetsAreFoundByIdAndNameTheirDomain() throws FormatException {
    assertEquals(SketchMatMulOp.DOMAIN, Target.fromId("portable").sketchDomain());
    assertEquals(SketchMatMulOp.TRT_DOMAIN, Target.fromId("ort-tensorrt").sketchDomain());
    FormatException e = assertThrows(FormatException.class, () -> Target.fromId("cpu"));
    assertEquals("unknown target 'cpu' (known: portable, ort-tensorrt)", e.getMessage());
  }

  @Test
  void versionComesFromThePom() {
    assertTrue(SketchrtVersion.VERSION.matches("\\d+\\.\\d+\\.\\d+.*"), SketchrtVersion.VERSION);
  }
}
