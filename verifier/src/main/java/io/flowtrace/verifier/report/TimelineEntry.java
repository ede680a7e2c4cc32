package io.flowtrace.verifier.report;

/**
 * One line of an instance's timeline: which stage/event, where (service span or topic/partition/
 * offset), and when relative to the instance's start.
 */
public record TimelineEntry(String stage, String event, String where, long offsetNanos, String traceId) {}
