package io.flowtrace.verifier.replay;

import io.flowtrace.verifier.assembly.FlowEngine.EngineStats;
import java.time.Duration;

/**
 * What a replay read and did. {@code readProblems} counts malformed lines/records that were
 * reported and skipped; {@code spilledRuns} is how many sorted runs went to disk (0 when the
 * recording fit the in-memory budget). {@code readTime} covers parsing, decoding and validating
 * (in parallel), {@code sortTime} the in-memory sort, {@code verifyTime} assembly and checks.
 * {@code spanServices} are the services ({@code service.name}) of the spans read, sorted.
 */
public record ReplayResult(
    int files,
    long bytes,
    long spans,
    long records,
    long readProblems,
    long relevantEvents,
    int spilledRuns,
    Duration readTime,
    Duration sortTime,
    Duration verifyTime,
    EngineStats engine,
    java.util.SortedSet<String> spanServices) {}
