package io.sketchrt.cli;

import io.sketchrt.converter.TunedSetStore;
import io.sketchrt.format.TunedSets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code --tuned [NAME=]DIR_OR_PKL} values, as convert and validate take them. */
final class TunedArgs {
  private TunedArgs() {}

  /**
   * Whether the value names its set ({@code NAME=PATH}); a '=' after a '/' belongs to a path, as in
   * "./runs/lr=1e-4".
   */
  static boolean isNamed(String value) {
    int eq = value.indexOf('=');
    return eq > 0 && value.lastIndexOf('/', eq) < 0;
  }

  /** One value: {@code NAME=PATH}, or a bare {@code PATH} named "default". */
  static TunedSetStore.Input parse(String value) throws UsageException {
    int eq = value.indexOf('=');
    boolean named = isNamed(value);
    String name = named ? value.substring(0, eq) : TunedSets.DEFAULT_NAME;
    String path = named ? value.substring(eq + 1) : value;
    String problem = TunedSets.nameProblem(name);
    if (problem != null) {
      throw new UsageException("--tuned " + value + ": " + problem);
    }
    if (path.isEmpty()) {
      throw new UsageException(
          "--tuned " + value + ": no checkpoint directory or pickle after '='");
    }
    return new TunedSetStore.Input(name, Path.of(path));
  }

  static List<TunedSetStore.Input> parse(List<String> values) throws UsageException {
    List<TunedSetStore.Input> out = new ArrayList<>();
    for (String v : values) {
      TunedSetStore.Input in = parse(v);
      if (out.stream().anyMatch(o -> o.name().equals(in.name()))) {
        throw new UsageException("--tuned: the set name '" + in.name() + "' is given twice");
      }
      out.add(in);
    }
    return out;
  }
}
