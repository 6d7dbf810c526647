import logging

from ingestion.spotify.redaction import RedactCredentials, redact


def test_credentials_in_headers_and_bodies_are_replaced():
    line = (
        "Sending POST request to https://accounts.spotify.com/api/token with Headers: "
        "{'Authorization': 'Basic Y2xpZW50OnNlY3JldA=='} and Body: {'grant_type': 'refresh_token', "
        "'refresh_token': 'AQD-r3fr3sh'} Bearer BQC-acc3ss client_secret=s3cr3t&code=abc"
    )
    cleaned = redact(line)
    for secret in ("Y2xpZW50OnNlY3JldA==", "AQD-r3fr3sh", "BQC-acc3ss", "s3cr3t", "abc"):
        assert secret not in cleaned
    assert "grant_type" in cleaned
    assert "https://accounts.spotify.com/api/token" in cleaned


def test_the_filter_rewrites_a_record_with_arguments():
    record = logging.LogRecord(
        "spotipy.client", logging.DEBUG, __file__, 1, "Headers: %s", ({"Authorization": "Bearer xyz"},), None
    )
    assert RedactCredentials().filter(record)
    assert "xyz" not in record.getMessage()
