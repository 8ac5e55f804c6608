// Renderings of query and report answers: aligned text for a terminal, JSON, NDJSON, CSV.
// The JSON forms are also the HTTP API's answers (docs/analytics.md lists their fields).
#pragma once

#include <ostream>
#include <string>

#include "analytics/event_query.h"
#include "analytics/report.h"

namespace lakelog::analytics {

enum class OutputFormat { kText, kJson, kNdjson, kCsv };

// "text", "json", "ndjson", "csv"; false otherwise.
bool ParseOutputFormat(const std::string& text, OutputFormat* out);

// Events, one per line (text, ndjson, csv: with a header line) or as one JSON array.
void WriteEvents(const EventQueryResult& result, OutputFormat format, std::ostream& out);

// What --explain and the API say about a scan, as one line, and as a JSON object.
std::string DescribeScan(const ScanStats& stats);
std::string DescribeScanJson(const ScanStats& stats);

// The report: text (a table worst first, then the health line), JSON (an object), NDJSON
// (one object per pipeline) or CSV (one row per pipeline).
void WriteReport(const Report& report, OutputFormat format, std::ostream& out);

// The JSON forms, as text.
std::string EventsJson(const EventQueryResult& result);
std::string ReportJson(const Report& report);

}  // namespace lakelog::analytics
