"""Spotify's privacy export: years of listening the Web API cannot reach (`tunelake import-history`).

`files.py` finds the export's files (a zip as Spotify sends it, a folder, single JSON files);
`formats.py` tells the two formats apart by content and turns each stream into a row of the
declared tables (`history_streams`, `history_account_plays` in `ingestion/spotify/tables.py`);
`importer.py` streams them into the raw zone and the warehouse and reports per file.
"""
