package io.sketchrt.converter;

import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchPickles;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.FormatException;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.TunedSetFile;
import io.sketchrt.format.TunedSets;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tuned sets of a converted model on disk (DESIGN section 3b): one {@code
 * tuned/NAME.safetensors} per set, listed with its digest in {@code sketchrt.json}. Every change is
 * atomic: a set file is written under a temporary name and renamed into place, then the card is
 * replaced the same way, so a crash or kill leaves either the old state or the new one (at worst an
 * unlisted file, which the next change of that name replaces). The codes and the other sets are
 * never rewritten.
 */
public final class TunedSetStore {
  private TunedSetStore() {}

  /** A named fine-tune to store: a checkpoint directory or {@code sketched_params.pkl}. */
  public record Input(String name, Path path) {}

  /** Refuses a name that is not a valid set name. */
  public static void checkName(String name) throws ConvertException {
    String problem = TunedSets.nameProblem(name);
    if (problem != null) {
      throw new ConvertException(problem);
    }
  }

  /**
   * Reads the fine-tune at {@code path} and checks it against the base sketch (same modules, same
   * LUT shapes: a fine-tune of another base fails here).
   */
  public static Map<String, SketchedLinear> read(Map<String, SketchedLinear> base, Path path)
      throws IOException, CheckpointException {
    return SketchPickles.applyTuned(base, SketchPickles.readTuned(path));
  }

  /** Writes one set's LUTs (as the pickle stores them) into {@code dir/tuned/NAME.safetensors}. */
  static TunedSets.Entry write(Path dir, String name, Map<String, SketchedLinear> set)
      throws IOException, ConvertException {
    checkName(name);
    List<TunedSetFile.Source> luts = new ArrayList<>();
    for (SketchedLinear l : set.values()) {
      luts.add(source(l.module(), l.lut()));
    }
    return writeFile(dir, name, luts);
  }

  private static TunedSetFile.Source source(String module, TensorData lut) {
    return new TunedSetFile.Source(module, lut.dtype().safetensorsName(), lut.shape(), lut.bytes());
  }

  /**
   * Writes {@code tuned/NAME.safetensors} under a temporary name and renames it into place (an
   * unlisted leftover of a crashed change is replaced); returns its card entry.
   */
  private static TunedSets.Entry writeFile(Path dir, String name, List<TunedSetFile.Source> luts)
      throws IOException {
    Path folder = dir.resolve(TunedSets.FOLDER);
    Files.createDirectories(folder);
    Path target = dir.resolve(TunedSets.fileFor(name));
    Path temp = folder.resolve("." + name + ".safetensors.tmp-" + ProcessHandle.current().pid());
    Files.deleteIfExists(temp);
    try {
      TunedSetFile.write(temp, name, luts);
      move(temp, target);
    } finally {
      Files.deleteIfExists(temp);
    }
    return new TunedSets.Entry(
        name, TunedSets.fileFor(name), Sources.digest(target).sha256(), Files.size(target));
  }

  /**
   * {@code sketchrt tuned add}: stores the fine-tune at {@code path} as set {@code name} of the
   * model in {@code dir}, checked against the model's default set (same modules and shapes).
   */
  public static TunedSets.Entry add(Path dir, String name, Path path)
      throws IOException, ConvertException, CheckpointException {
    checkName(name);
    ModelCard card = cardWithSets(dir);
    TunedSets sets = card.tunedSets();
    if (sets.find(name).isPresent()) {
      throw new ConvertException(
          dir + " already has a tuned set '" + name + "' (remove it first, or pick another name)");
    }
    TunedSetFile.Contents reference;
    try {
      reference = TunedSetFile.read(dir.resolve(sets.find(sets.defaultSet()).orElseThrow().file()));
    } catch (FormatException e) {
      throw new ConvertException(e.getMessage(), e);
    }
    Map<String, TensorData> tuned = SketchPickles.readTuned(path);
    checkAgainst(reference, tuned, path, dir);
    List<TunedSetFile.Source> luts = new ArrayList<>();
    for (String module : reference.luts().keySet()) {
      luts.add(source(module, tuned.get(module)));
    }
    TunedSets.Entry entry = writeFile(dir, name, luts);
    try {
      writeCard(dir, card.withTunedSets(sets.with(entry)));
    } catch (IOException | RuntimeException e) {
      if (!listed(dir, name)) {
        Files.deleteIfExists(dir.resolve(TunedSets.fileFor(name)));
      }
      throw e;
    }
    return entry;
  }

  /** {@code sketchrt tuned remove}: never the default set (it is in the graph) or the last one. */
  public static void remove(Path dir, String name) throws IOException, ConvertException {
    checkName(name);
    ModelCard card = cardWithSets(dir);
    TunedSets sets = card.tunedSets();
    if (sets.find(name).isEmpty()) {
      throw new ConvertException(
          dir
              + " has no tuned set '"
              + name
              + "' (it has: "
              + String.join(", ", sets.names())
              + ")");
    }
    if (sets.sets().size() == 1) {
      throw new ConvertException("'" + name + "' is the only tuned set of " + dir + ": it stays");
    }
    if (name.equals(sets.defaultSet())) {
      throw new ConvertException(
          "'"
              + name
              + "' is the default tuned set of "
              + dir
              + ", whose LUTs the graph holds: convert again to change the default");
    }
    writeCard(dir, card.withTunedSets(sets.without(name)));
    Files.deleteIfExists(dir.resolve(TunedSets.fileFor(name)));
  }

  /** The card of {@code dir}, which must list tuned sets. */
  public static ModelCard cardWithSets(Path dir) throws IOException, ConvertException {
    ModelCard card;
    try {
      card = ModelCard.read(dir);
    } catch (FormatException e) {
      throw new ConvertException(e.getMessage(), e);
    }
    if (card.tunedSets() == null) {
      throw new ConvertException(
          dir + " was converted before tuned sets existed: convert it again to manage its sets");
    }
    return card;
  }

  private static boolean listed(Path dir, String name) {
    try {
      return ModelCard.read(dir).tunedSets().find(name).isPresent();
    } catch (FormatException | RuntimeException e) {
      return false;
    }
  }

  private static void checkAgainst(
      TunedSetFile.Contents reference, Map<String, TensorData> tuned, Path path, Path dir)
      throws ConvertException {
    for (String module : tuned.keySet()) {
      if (!reference.luts().containsKey(module)) {
        throw new ConvertException(
            path
                + ": layer '"
                + module
                + "' is not a sketched layer of "
                + dir
                + " (another base?)");
      }
    }
    for (TunedSetFile.Lut ref : reference.luts().values()) {
      TensorData lut = tuned.get(ref.module());
      if (lut == null) {
        throw new ConvertException(
            path + " lacks layer '" + ref.module() + "' of " + dir + " (another base?)");
      }
      if (!Arrays.equals(lut.shape(), ref.shape())) {
        throw new ConvertException(
            path
                + ": the LUT of '"
                + ref.module()
                + "' has shape "
                + Arrays.toString(lut.shape())
                + ", the model's codes need "
                + Arrays.toString(ref.shape())
                + " (a fine-tune of another base?)");
      }
    }
  }

  /** Replaces {@code dir/sketchrt.json} atomically. */
  static void writeCard(Path dir, ModelCard card) throws IOException {
    Path temp = dir.resolve("." + ModelCard.FILE_NAME + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.deleteIfExists(temp);
      card.write(temp);
      move(temp, dir.resolve(ModelCard.FILE_NAME));
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
