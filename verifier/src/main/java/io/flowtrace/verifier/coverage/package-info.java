/**
 * What a recording says about flow specs before any instance is verified: which declared events
 * match nothing, which traffic no flow covers, and which spans and topics almost match a declared
 * event (the likely typo). Matching is the engine's own ({@link
 * io.flowtrace.verifier.spec.SpanMatcher}, topics as {@link
 * io.flowtrace.verifier.spec.FlowSpec#eventsByTopic()} names them); only the "almost" is added here.
 */
package io.flowtrace.verifier.coverage;
