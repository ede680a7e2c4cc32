package io.flowtrace.verifier.spec;

import java.time.Duration;

/** A latency budget: {@code to} (event or stage id) must happen within {@code within} of {@code from}. */
public record BudgetSpec(String from, String to, Duration within) {}
