package io.flowtrace.cli;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The most heap in use just after a garbage collection since the last {@link #reset}: what a
 * phase kept alive, rather than the garbage a lazy collector let pile up before it (the peak
 * usage of the heap pools counts both).
 */
final class HeapWatch {
  private final AtomicLong peak = new AtomicLong();

  HeapWatch() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener((notification, handback) -> {
          if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
          }
          GarbageCollectionNotificationInfo info =
              GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
          long used = 0;
          for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = info.getGcInfo().getMemoryUsageAfterGc().get(pool.getName());
            if (after != null && pool.getType() == java.lang.management.MemoryType.HEAP) {
              used += after.getUsed();
            }
          }
          peak.accumulateAndGet(used, Math::max);
        }, null, null);
      }
    }
  }

  void reset() {
    peak.set(0);
  }

  /** Most heap in use after a collection since {@link #reset}; 0 when none ran. */
  long peakAfterGc() {
    return peak.get();
  }
}
