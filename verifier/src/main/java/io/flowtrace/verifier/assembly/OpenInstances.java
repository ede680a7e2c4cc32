package io.flowtrace.verifier.assembly;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * The open instances of every flow, oldest first (the in-flight cap evicts from the front), and how
 * many sightings they hold between them — counted as instances open, close and take sightings, not
 * walked: the retention cap reads it on every advance, and a sidecar draining a backlog has
 * thousands open. Engine thread only.
 */
final class OpenInstances implements Iterable<InstanceState> {
  private final LinkedHashSet<InstanceState> instances = new LinkedHashSet<>();
  private long sightings;

  void add(InstanceState inst) {
    if (instances.add(inst)) {
      inst.openIn = this;
      sightings += inst.sightings.size();
    }
  }

  void remove(InstanceState inst) {
    if (instances.remove(inst)) {
      inst.openIn = null;
      sightings -= inst.sightings.size();
    }
  }

  /** An open instance took a sighting ({@link InstanceState#add}). */
  void sightingAdded() {
    sightings++;
  }

  /** An open instance let go of its sightings ({@link InstanceState#release}). */
  void sightingsReleased(int count) {
    sightings -= count;
  }

  /** Sightings held by open instances. */
  long sightings() {
    return sightings;
  }

  int size() {
    return instances.size();
  }

  boolean isEmpty() {
    return instances.isEmpty();
  }

  /** The instance open longest; the set must not be empty. */
  InstanceState oldest() {
    return instances.iterator().next();
  }

  /** Oldest first; do not open or close instances while walking. */
  @Override
  public Iterator<InstanceState> iterator() {
    return java.util.Collections.unmodifiableSet(instances).iterator();
  }
}
