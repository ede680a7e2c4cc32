package io.flowtrace.tracer.recording;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.RecursiveAction;
import java.util.function.Function;

/**
 * Hands the lines of one file out in chunks to the workers of the {@link ReadingPool} the reading
 * thread belongs to: the reading thread only splits lines, and whichever worker is idle decodes
 * them. Problems of a chunk are reported once every chunk before it is done, so a file's problems
 * still come in its order. Used by one reading thread; public for readers of other formats (the
 * bench's raw parse).
 */
public final class LineChunks {

  /** Decodes one line of plain UTF-8 and returns how many items it gave. Runs on any worker. */
  public interface LineDecoder {
    long decode(byte[] utf8, int offset, int length, long lineNumber);
  }

  /**
   * Bytes of lines gathered before a chunk is handed out: a few export requests, enough that
   * handing out costs nothing beside decoding, and small enough that a chunk's buffer stays under
   * half of G1's smallest region (512 KiB). At 1 MiB every new buffer was a humongous allocation,
   * each of which may start a young collection and a marking cycle: a warm bench replay of the
   * 287 MB recording in {@code -Xmx1g} ran 32–45 collections for them and 74–148 marking cycles;
   * at 384 KiB 0–6 and 4–48, replay CPU 6.3–6.5 → 5.6–6.4 s.
   */
  static final int CHUNK_BYTES = 384 << 10;
  /** A chunk's buffer: room for the line that takes it past {@link #CHUNK_BYTES}. */
  private static final int BUFFER_BYTES = CHUNK_BYTES + (CHUNK_BYTES >> 2);
  /** Chunks handed out and not yet reported, per file: what memory the chunking takes. */
  static final int MAX_IN_FLIGHT = 4;

  private final Function<ReadListener, LineDecoder> decoders;
  private final ReadListener listener;
  private final ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
  /** Chunk buffers whose lines are decoded, used again. */
  private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
  private Chunk filling;
  private long emitted;

  /**
   * @param decoders makes a decoder for one chunk, given where that chunk's problems go
   * @param listener where problems go, in the file's order
   */
  LineChunks(Function<ReadListener, LineDecoder> decoders, ReadListener listener) {
    this.decoders = decoders;
    this.listener = listener;
  }

  /** Chunks for the current thread's reading pool, or {@code null} when it runs in none. */
  public static LineChunks inReadingPool(Function<ReadListener, LineDecoder> decoders, ReadListener listener) {
    return ReadingPool.current() ? new LineChunks(decoders, listener) : null;
  }

  /** Copies the line into the chunk being filled, handing the chunk out once it is full. */
  public void add(byte[] utf8, int offset, int length, long lineNumber) {
    if (filling == null) {
      byte[] buffer = spare.poll();
      filling = new Chunk(buffer != null ? buffer : new byte[BUFFER_BYTES]);
    }
    filling.add(utf8, offset, length, lineNumber);
    if (filling.size >= CHUNK_BYTES) {
      handOut();
      while (inFlight.size() > MAX_IN_FLIGHT) {
        if (!inFlight.peek().isDone() && runOneNobodyTook()) {
          continue;
        }
        complete(inFlight.poll());
      }
    }
  }

  /**
   * Decodes, on this thread, the newest chunk no other worker took, rather than wait for the oldest
   * (which a thief took first); false when every chunk is taken or done.
   */
  private boolean runOneNobodyTook() {
    for (java.util.Iterator<Chunk> i = inFlight.descendingIterator(); i.hasNext(); ) {
      Chunk c = i.next();
      if (!c.isDone() && c.tryUnfork()) {
        c.invoke();
        return true;
      }
    }
    return false;
  }

  /** Decodes what is gathered and waits for every chunk, reporting their problems in order. */
  public void drain() {
    if (filling != null) {
      handOut();
    }
    while (!inFlight.isEmpty()) {
      if (!inFlight.peek().isDone() && runOneNobodyTook()) {
        continue;
      }
      complete(inFlight.poll());
    }
  }

  /** Items the chunks reported so far gave. */
  public long emitted() {
    return emitted;
  }

  private void handOut() {
    filling.fork();
    inFlight.add(filling);
    filling = null;
  }

  private void complete(Chunk chunk) {
    chunk.join();
    if (chunk.bytes.length == BUFFER_BYTES) {
      spare.push(chunk.bytes);
    }
    chunk.bytes = null;
    emitted += chunk.emitted;
    for (ReadProblem p : chunk.problems) {
      listener.problem(p);
    }
  }

  /** Lines copied out of the line reader's buffer (which the next line overwrites). */
  private final class Chunk extends RecursiveAction {
    private byte[] bytes;
    private int size;
    private int[] ends = new int[256];
    private long[] lines = new long[256];
    private int count;
    private final List<ReadProblem> problems = new ArrayList<>();
    private long emitted;

    Chunk(byte[] bytes) {
      this.bytes = bytes;
    }

    void add(byte[] utf8, int offset, int length, long lineNumber) {
      if (size + length > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(size + length, 2 * bytes.length));
      }
      System.arraycopy(utf8, offset, bytes, size, length);
      size += length;
      if (count == ends.length) {
        ends = Arrays.copyOf(ends, 2 * count);
        lines = Arrays.copyOf(lines, 2 * count);
      }
      ends[count] = size;
      lines[count++] = lineNumber;
    }

    @Override
    protected void compute() {
      LineDecoder decoder = decoders.apply(problems::add);
      int start = 0;
      for (int i = 0; i < count; i++) {
        emitted += decoder.decode(bytes, start, ends[i] - start, lines[i]);
        start = ends[i];
      }
    }
  }
}
