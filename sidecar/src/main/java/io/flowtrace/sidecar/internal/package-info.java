/** The sidecar's moving parts; not API, may change in any release. */
package io.flowtrace.sidecar.internal;
