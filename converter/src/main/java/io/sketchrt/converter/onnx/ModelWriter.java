package io.sketchrt.converter.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.sketchrt.converter.ConvertException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes a {@link GraphBuilder}'s graph as {@code model.onnx}, weights inline or streamed into
 * {@code model.onnx.data} (ONNX external data: location, offset, length).
 *
 * <p>IR version 10 and opset ai.onnx 21: accepted by ONNX Runtime 1.23 (Java), 1.30 and TensorRT
 * 10's ONNX parser.
 */
public final class ModelWriter {

  public static final int IR_VERSION = 10;
  public static final int OPSET = 21;
  public static final String PRODUCER = "sketchrt";

  /** Protobuf messages cannot pass 2 GiB; leave room for the graph itself. */
  public static final long INLINE_LIMIT = (2L << 30) - (256L << 20);

  /** Tensors smaller than this stay inline even with external data (as onnx does). */
  static final long EXTERNAL_MIN_BYTES = 1024;

  private static final long SMALL_ALIGN = 64;
  private static final long PAGE_ALIGN = 4096;
  private static final long PAGE_ALIGN_FROM = 1L << 20;

  /** Called after each weight is written: its name and the bytes written so far. */
  @FunctionalInterface
  public interface Progress {
    void written(String weight, long totalBytes);
  }

  /** What was written. */
  public record Result(Path model, Path externalData, long weightBytes) {}

  /** The model-level facts besides the graph. */
  public record Header(
      String graphName,
      String docString,
      String producerVersion,
      Map<String, Long> opsets,
      Map<String, String> metadata) {}

  private ModelWriter() {}

  /**
   * Writes {@code dir/fileName} and, when {@code external} is set or the weights would pass {@link
   * #INLINE_LIMIT}, {@code dir/fileName.data}.
   */
  public static Result write(
      GraphBuilder g, Header header, Path dir, String fileName, boolean external, Progress progress)
      throws IOException, ConvertException {
    boolean useExternal = external || g.initializerBytes() > INLINE_LIMIT;
    String dataName = fileName + ".data";
    Path dataFile = dir.resolve(dataName);
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName(header.graphName())
            .addAllNode(g.nodes())
            .addAllInput(g.inputs())
            .addAllOutput(g.outputs())
            .addAllValueInfo(g.valueInfos())
            .addAllInitializer(g.constants());
    long total = 0;
    try (FileChannel data =
        useExternal
            ? FileChannel.open(dataFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
            : null) {
      for (GraphBuilder.Weight w : g.weights()) {
        TensorSource src = w.source();
        TensorProto.Builder t =
            TensorProto.newBuilder().setName(w.name()).setDataType(OnnxTypes.code(src.dtype()));
        Arrays.stream(src.shape()).forEach(t::addDims);
        long size = src.byteSize();
        if (data != null && size >= EXTERNAL_MIN_BYTES) {
          long offset = align(data, size >= PAGE_ALIGN_FROM ? PAGE_ALIGN : SMALL_ALIGN);
          src.writeTo(data);
          checkWritten(w.name(), size, data.position() - offset);
          t.setDataLocation(TensorProto.DataLocation.EXTERNAL);
          t.addExternalDataBuilder().setKey("location").setValue(dataName);
          t.addExternalDataBuilder().setKey("offset").setValue(Long.toString(offset));
          t.addExternalDataBuilder().setKey("length").setValue(Long.toString(size));
        } else {
          t.setRawData(inlineBytes(w.name(), src));
        }
        graph.addInitializer(t);
        total += size;
        progress.written(w.name(), total);
      }
    }
    ModelProto.Builder model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .setProducerName(PRODUCER)
            .setProducerVersion(header.producerVersion())
            .setDocString(header.docString())
            .setModelVersion(1)
            .setGraph(graph)
            .addAllFunctions(g.functions());
    header
        .opsets()
        .forEach(
            (domain, version) ->
                model.addOpsetImport(
                    OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version)));
    header
        .metadata()
        .forEach(
            (k, v) ->
                model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    Path modelFile = dir.resolve(fileName);
    try (OutputStream out =
        new BufferedOutputStream(
            Files.newOutputStream(modelFile, StandardOpenOption.CREATE_NEW), 1 << 20)) {
      model.build().writeTo(out);
    }
    return new Result(modelFile, useExternal ? dataFile : null, total);
  }

  /** Pads the data file with zeros up to a multiple of {@code alignment}; returns the offset. */
  private static long align(FileChannel data, long alignment) throws IOException {
    long pos = data.position();
    long pad = (alignment - pos % alignment) % alignment;
    if (pad > 0) {
      Chunks.writeFully(ByteBuffer.allocate((int) pad), data);
    }
    return data.position();
  }

  private static ByteString inlineBytes(String name, TensorSource src)
      throws IOException, ConvertException {
    long size = src.byteSize();
    if (size > Integer.MAX_VALUE - 8) {
      throw new IOException(
          name + ": " + size + " bytes cannot be stored inline; use --external-data");
    }
    ArrayChannel ch = new ArrayChannel(new byte[(int) size]);
    src.writeTo(ch);
    checkWritten(name, size, ch.pos);
    return UnsafeByteOperations.unsafeWrap(ch.array);
  }

  private static void checkWritten(String name, long expected, long actual) {
    if (expected != actual) {
      throw new IllegalStateException(name + ": wrote " + actual + " bytes, expected " + expected);
    }
  }

  /** A channel writing into a fixed byte array. */
  private static final class ArrayChannel implements WritableByteChannel {
    final byte[] array;
    int pos;

    ArrayChannel(byte[] array) {
      this.array = array;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      if (n > array.length - pos) {
        throw new IOException("tensor source wrote more bytes than its size");
      }
      src.get(array, pos, n);
      pos += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
