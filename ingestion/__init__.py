"""tunelake: Spotify analytics ingestion."""
