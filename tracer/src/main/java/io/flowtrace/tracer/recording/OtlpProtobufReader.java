package io.flowtrace.tracer.recording;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Reads spans from OTLP protobuf files ({@code *.otlp.pb}, optionally gzipped): a sequence of
 * length-delimited {@code ExportTraceServiceRequest}s, each preceded by its size as a varint (what
 * {@code writeDelimitedTo} writes). A message that does not parse is reported with its byte offset
 * and skipped. A length prefix that is cut off, malformed or larger than {@link #MAX_MESSAGE_BYTES}
 * leaves no way to find the next message: it is reported and the rest of the file is skipped. So
 * is a file cut off or corrupt (a truncated gzip): reported at the offset of the message it cut,
 * the messages before it kept.
 */
public final class OtlpProtobufReader implements TelemetryFileReader {

  /** The largest message accepted: 64 MiB (the OTLP receivers' usual limit is 4 MiB). */
  public static final int MAX_MESSAGE_BYTES = 64 << 20;

  @Override
  public boolean accepts(Path file) {
    return RecordingFiles.hasSuffix(file, ".otlp.pb");
  }

  /** Reads the file; a file that cannot be opened is reported at offset 0. Never throws for bad input. */
  @Override
  public long read(Path file, Consumer<Telemetry> sink, ReadListener listener) {
    String source = file.toString();
    return RecordingFiles.read(file, listener, SourcePosition.offset(source, 0),
        in -> read(in, source, sink, listener));
  }

  /**
   * Reads delimited messages from a stream; {@code source} names it in problem reports. A read
   * error is reported at the offset of the message it cut off and ends the input; the messages
   * before it are kept. Does not close {@code in}.
   */
  public long read(InputStream in, String source, Consumer<Telemetry> sink, ReadListener listener) {
    long[] position = new long[1];
    long[] emitted = new long[1];
    try {
      read(in, source, sink, listener, position, emitted);
    } catch (IOException e) {
      problem(listener, source, position[0], RecordingFiles.cutOff(e));
    }
    return emitted[0];
  }

  /** Reads until the end; {@code position[0]} is the offset of the message being read, {@code emitted[0]} the spans emitted. */
  private static void read(InputStream in, String source, Consumer<Telemetry> sink, ReadListener listener,
      long[] position, long[] emitted) throws IOException {
    long offset = 0;
    for (int index = 1; ; index++) {
      long start = offset;
      position[0] = start;
      int first = in.read();
      if (first < 0) {
        return;
      }
      long length = first & 0x7f;
      int prefixBytes = 1;
      for (int b = first; (b & 0x80) != 0; ) {
        if (prefixBytes == 5) {
          problem(listener, source, start,
              "message " + index + " has a length prefix longer than 5 bytes; the rest of the file is skipped");
          return;
        }
        b = in.read();
        if (b < 0) {
          problem(listener, source, start,
              "message " + index + " has its length prefix cut off by the end of the file");
          return;
        }
        length |= (long) (b & 0x7f) << (7 * prefixBytes);
        prefixBytes++;
      }
      if (length > MAX_MESSAGE_BYTES) {
        problem(listener, source, start, "message " + index + " claims " + length
            + " bytes, more than the limit of " + MAX_MESSAGE_BYTES
            + "; its length prefix is probably corrupt, the rest of the file is skipped");
        return;
      }
      byte[] bytes = in.readNBytes((int) length);
      if (bytes.length < length) {
        problem(listener, source, start, "message " + index + " is cut off: its length prefix says "
            + length + " bytes but the file ends after " + bytes.length);
        return;
      }
      offset += prefixBytes + length;
      ExportTraceServiceRequest request;
      try {
        request = ExportTraceServiceRequest.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        problem(listener, source, start, "message " + index
            + " is not an OTLP ExportTraceServiceRequest: " + e.getMessage());
        continue;
      }
      String message = "message " + index + ": ";
      emitted[0] += OtlpSpans.convert(
          request,
          span -> {
            String implausible = OtlpSpans.implausibleStart(span);
            if (implausible != null) {
              listener.problem(ReadProblem.naming(SourcePosition.offset(source, start), message + implausible,
                  implausible));
              return;
            }
            if (span.endEpochNanos() < span.startEpochNanos()) {
              problem(listener, source, start, message + OtlpSpans.endsBeforeItStarts(span));
            }
            sink.accept(Telemetry.of(OtlpSpans.endingNoEarlierThanItStarts(span)));
          },
          invalid -> problem(listener, source, start, message + invalid.describe()));
    }
  }

  private static void problem(ReadListener listener, String source, long offset, String reason) {
    listener.problem(new ReadProblem(SourcePosition.offset(source, offset), reason));
  }
}
