/**
 * Reading and validating HOCON settings: every module builds an immutable settings record from a
 * {@link com.typesafe.config.Config} through a {@link dev.distill.settings.SettingsReader}, which collects
 * <em>all</em> problems (wrong type, out of range, unknown key) with the file and line they came from, so a
 * user sees every mistake of a job file in one run, before any Spark job starts.
 */
package dev.distill.settings;
