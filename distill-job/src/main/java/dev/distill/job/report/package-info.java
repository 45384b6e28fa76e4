/**
 * The report: {@link dev.distill.job.report.Report} (typed records of {@code report.json}), its console
 * tables, the HTML page ({@link dev.distill.job.report.ReportHtml}) and the stage table's measurements
 * ({@link dev.distill.job.report.StageTable}).
 */
package dev.distill.job.report;
