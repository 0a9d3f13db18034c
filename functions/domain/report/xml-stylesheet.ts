/**
 * The XSLT 1.0 stylesheet embedded in the XML report (Kallisti does the same),
 * so a browser opening the report shows tables instead of raw XML. It reads
 * `/report/root/list-item` (experiments) and their `trials/list-item`.
 */
export const REPORT_STYLESHEET_ID = 'reportstyle';

export const REPORT_STYLESHEET = `<xsl:stylesheet id="${REPORT_STYLESHEET_ID}" version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="html" encoding="utf-8"/>
<xsl:template name="key"><xsl:choose><xsl:when test="@key"><xsl:value-of select="@key"/></xsl:when><xsl:otherwise><xsl:value-of select="name()"/></xsl:otherwise></xsl:choose></xsl:template>
<xsl:template name="map"><xsl:if test="*"><table><xsl:for-each select="*"><tr><th><xsl:call-template name="key"/></th><td><xsl:value-of select="."/></td></tr></xsl:for-each></table></xsl:if></xsl:template>
<xsl:template match="/">
<html lang="en">
<head>
<meta charset="utf-8"/>
<title><xsl:value-of select="/report/report-title"/></title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.4em 0 1.2em; }
th, td { border: 1px solid #c8c8c8; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
pre { margin: 0; white-space: pre-wrap; font-size: 0.85em; }
.status-Succeeded { color: #17803d; font-weight: bold; }
.status-Failed, .status-Invalid { color: #c62828; font-weight: bold; }
.status-Aborted { color: #d35400; font-weight: bold; }
.status-Stopped, .status-Stop-Initiated { color: #6a1b9a; font-weight: bold; }
.status-Scheduled, .status-In-Progress { color: #1565c0; font-weight: bold; }
</style>
</head>
<body>
<h1><xsl:value-of select="/report/report-title"/></h1>
<p>Generated <xsl:value-of select="/report/@generated_at"/>: <xsl:value-of select="count(/report/root/list-item)"/> experiment(s), <xsl:value-of select="count(/report/root/list-item/trials/list-item)"/> trial(s), <xsl:value-of select="count(/report/root/list-item/trials/list-item[status='Succeeded'])"/> succeeded.</p>
<table id="summary">
<thead><tr><th>Experiment</th><th>Trial</th><th>Status</th><th>Executed</th><th>Completed</th><th>Initiated by</th></tr></thead>
<tbody>
<xsl:for-each select="/report/root/list-item/trials/list-item">
<tr><td><xsl:value-of select="../../name"/></td><td><a href="#trial-{id}"><xsl:value-of select="id"/></a></td><td class="status-{translate(status, ' ', '-')}"><xsl:value-of select="status"/></td><td><xsl:value-of select="executed_at"/></td><td><xsl:value-of select="completed_at"/></td><td><xsl:value-of select="initiated_by"/></td></tr>
</xsl:for-each>
</tbody>
</table>
<xsl:for-each select="/report/root/list-item">
<h2 id="experiment-{id}"><xsl:value-of select="name"/></h2>
<p><xsl:value-of select="description"/></p>
<xsl:if test="deleted_at"><p>Deleted <xsl:value-of select="deleted_at"/> by <xsl:value-of select="deleted_by"/>.</p></xsl:if>
<xsl:for-each select="metadata"><xsl:call-template name="map"/></xsl:for-each>
<xsl:for-each select="trials/list-item">
<h3 id="trial-{id}">Trial <xsl:value-of select="id"/>: <span class="status-{translate(status, ' ', '-')}"><xsl:value-of select="status"/></span></h3>
<p>Initiated by <xsl:value-of select="initiated_by"/> (<xsl:value-of select="initiated_from"/>); executed <xsl:value-of select="executed_at"/>; completed <xsl:value-of select="completed_at"/>.</p>
<xsl:for-each select="parameters"><xsl:call-template name="map"/></xsl:for-each>
<table>
<thead><tr><th>Phase</th><th>Step</th><th>Logs</th></tr></thead>
<tbody>
<xsl:for-each select="trial_record/*/list-item">
<tr><td><xsl:value-of select="name(..)"/></td><td><xsl:value-of select="step_name"/></td><td><xsl:for-each select="logs/list-item"><pre><xsl:value-of select="."/></pre></xsl:for-each></td></tr>
</xsl:for-each>
</tbody>
</table>
</xsl:for-each>
</xsl:for-each>
</body>
</html>
</xsl:template>
</xsl:stylesheet>`;
