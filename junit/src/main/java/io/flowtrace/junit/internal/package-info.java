/** The running parts of the JUnit extension. Internal: not API; may change without notice. */
package io.flowtrace.junit.internal;
