/**
 * Files a user names on the command line or in settings (reports, recordings, verdict logs), written
 * as any other tool writes them: with the permissions the umask gives a new file (not the 0600 of a
 * temporary file), whole or not at all where the file is written in one go ({@link
 * io.flowtrace.tracer.files.OutputFile}), and failures that name the path the user gave and why it
 * cannot be written ({@link io.flowtrace.tracer.files.CannotWriteException}). Every module that
 * writes such a file uses this package.
 */
package io.flowtrace.tracer.files;
