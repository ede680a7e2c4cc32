package io.flowtrace.tracer.recording;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Collects what a reader emits and reports, for assertions. */
final class Collected implements Consumer<Telemetry>, ReadListener {
  final List<Telemetry> telemetry = new ArrayList<>();
  final List<ReadProblem> problems = new ArrayList<>();
  final Map<String, List<Long>> progress = new LinkedHashMap<>();

  @Override
  public void accept(Telemetry t) {
    telemetry.add(t);
  }

  @Override
  public void problem(ReadProblem problem) {
    problems.add(problem);
  }

  @Override
  public void progress(String source, long bytesRead) {
    progress.computeIfAbsent(source, s -> new ArrayList<>()).add(bytesRead);
  }

  List<Span> spans() {
    return telemetry.stream()
        .filter(t -> t instanceof Telemetry.SpanEvent)
        .map(t -> ((Telemetry.SpanEvent) t).span())
        .toList();
  }

  List<KafkaRecord> records() {
    return telemetry.stream()
        .filter(t -> t instanceof Telemetry.RecordEvent)
        .map(t -> ((Telemetry.RecordEvent) t).record())
        .toList();
  }

  List<String> spanNames() {
    return spans().stream().map(Span::name).toList();
  }

  List<String> problemTexts() {
    return problems.stream().map(ReadProblem::toString).toList();
  }
}
