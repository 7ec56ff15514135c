"""Imported usage reports (issue 15): GitHub's summarized and detailed metered usage
reports (and, registered by their app, other kinds) uploaded by owners and billing
managers, streamed through the collection's fast path by a Celery task.

A layer of its own between reporting and collection: `parse` (CSV rows), `kinds` (the
registry of report kinds, by header), `metered` (the summarized/detailed importer), `spool`
(its one pass: a file into per-month COPY spools), `rebuild` (a month's items and rollups
from the report rows), `lease` (the org's collection lease during an import), `selectors`
(which source a month uses, `reports_source_of`), `access` (verified org data or the
uploader's own workspace), `services` (upload, process, merge), `tasks`.
"""
