package io.sketchrt.cli;

import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.spi.Backends;
import java.util.List;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The choice of backend that every command loading a converted model shares ({@code generate},
 * {@code bench}, {@code validate}). Each backend's own flags come from its {@link BackendFlags}
 * mixin, found with {@link ServiceLoader}; {@link #addBackendFlags} puts them on the commands.
 */
public final class BackendSelection {

  @Option(
      names = "--backend",
      paramLabel = "NAME",
      defaultValue = Backends.DEFAULT,
      description =
          "ort-cpu (default), ort-cuda, ort-tensorrt or trt; 'sketchrt backends' lists what runs here.")
  String backend;

  /** This command's own instances: picocli writes the parsed values into them. */
  private final List<BackendFlags> flags =
      ServiceLoader.load(BackendFlags.class, BackendFlags.class.getClassLoader()).stream()
          .map(ServiceLoader.Provider::get)
          .toList();

  /** The options as the runtime API takes them; a bad value fails with a one-line message. */
  public LoadOptions toLoadOptions() {
    LoadOptions options = LoadOptions.defaults().withBackend(backend);
    for (BackendFlags f : flags) {
      options = f.applyTo(options);
    }
    return options;
  }

  /**
   * Adds every backend's flags to each subcommand of {@code root} that has a {@code
   * BackendSelection} mixin.
   */
  static void addBackendFlags(CommandLine root) {
    for (CommandLine sub : root.getSubcommands().values()) {
      CommandSpec spec = sub.getCommandSpec();
      for (CommandSpec mixin : List.copyOf(spec.mixins().values())) {
        if (mixin.userObject() instanceof BackendSelection selection) {
          for (BackendFlags f : selection.flags) {
            spec.addMixin(f.getClass().getName(), CommandSpec.forAnnotatedObject(f));
          }
        }
      }
      addBackendFlags(sub);
    }
  }
}
