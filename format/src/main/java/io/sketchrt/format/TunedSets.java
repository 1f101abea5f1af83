package io.sketchrt.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The tuned sets of a converted model (DESIGN section 3b): each one fine-tune's LUTs for every
 * sketched layer, in a file of its own under {@code tuned/}, apart from the codes. The graph holds
 * the codes once and the default set's LUTs; the others are loaded into LUT slots at run time.
 *
 * @param defaultSet the set a request that names none runs, and the one baked into the graph
 * @param sets every set, in the order they were added
 */
public record TunedSets(String defaultSet, List<Entry> sets) {

  /** {@code [A-Za-z0-9][A-Za-z0-9._-]{0,63}}: a name is never a path. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** The folder of the set files inside a converted model directory. */
  public static final String FOLDER = "tuned";

  /** The name a bare {@code --tuned DIR} gets. */
  public static final String DEFAULT_NAME = "default";

  /**
   * One set.
   *
   * @param file relative to the model directory ({@code tuned/NAME.safetensors})
   * @param sha256 of the file
   * @param bytes the file's size
   */
  public record Entry(String name, String file, String sha256, long bytes) {}

  public TunedSets {
    sets = List.copyOf(sets);
    if (find(sets, defaultSet).isEmpty()) {
      throw new IllegalArgumentException(
          "the default tuned set '" + defaultSet + "' is not listed");
    }
  }

  /** Null when {@code name} is a valid set name, else why not. */
  public static String nameProblem(String name) {
    if (name == null || name.isEmpty()) {
      return "a tuned set name must not be empty";
    }
    if (!NAME.matcher(name).matches()) {
      return "tuned set name '"
          + (name.length() > 70 ? name.substring(0, 67) + "..." : name)
          + "' is not allowed: use letters, digits, '.', '_' and '-' (1 to 64, starting with a"
          + " letter or digit; never a path)";
    }
    return null;
  }

  /** The file a set of this name is stored in. */
  public static String fileFor(String name) {
    return FOLDER + "/" + name + ".safetensors";
  }

  public Optional<Entry> find(String name) {
    return find(sets, name);
  }

  public List<String> names() {
    return sets.stream().map(Entry::name).toList();
  }

  /** These sets plus {@code e} (its name must be new). */
  public TunedSets with(Entry e) {
    List<Entry> all = new ArrayList<>(sets);
    all.add(e);
    return new TunedSets(defaultSet, all);
  }

  /** These sets without {@code name} (neither the default nor the last one). */
  public TunedSets without(String name) {
    List<Entry> all = new ArrayList<>(sets);
    all.removeIf(e -> e.name().equals(name));
    return new TunedSets(defaultSet, all);
  }

  private static Optional<Entry> find(List<Entry> sets, String name) {
    return sets.stream().filter(e -> e.name().equals(name)).findFirst();
  }
}
