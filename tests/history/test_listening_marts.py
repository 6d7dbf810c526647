"""The marts over the whole listening history, on an export whose answers are worked out by hand.

Eight streams: three on New Year's Day 2024 (the second starts exactly 30 minutes after the first
ends, the third 30 minutes and 1 second after the second), a skip on 2 January, a play on
3 January, a podcast on 10 January, and two plays two hours apart on 1 June 2025.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.transform import run_dbt
from sandbox import export as exports

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
FULL, SHORT, LONGER = 200_000, 12_000, 250_000
PODCAST = 1_800_000


def stream(ended: datetime, ms_played: int, song: int | None, reason_end: str = "trackdone") -> dict:
    """A stream of song `song` (0 to 2, the generator's "Song n" by "Band"), or a podcast for None."""
    base = exports.extended(1, first=4 if song is None else song)[0]
    return base | {"ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"), "ms_played": ms_played, "reason_end": reason_end}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


FIRST_END = at("2024-01-01 10:00:00")
SECOND_END = FIRST_END + timedelta(minutes=30, milliseconds=FULL)  # starts exactly 30 min after FIRST_END
THIRD_END = SECOND_END + timedelta(minutes=30, seconds=1, milliseconds=FULL)  # 30 min 1 s after SECOND_END
STREAMS = [
    stream(FIRST_END, FULL, 0),
    stream(SECOND_END, FULL, 1),
    stream(THIRD_END, FULL, 0),
    stream(at("2024-01-02 20:00:00"), SHORT, 2, reason_end="fwdbtn"),
    stream(at("2024-01-03 08:00:00"), LONGER, 1),
    stream(at("2024-01-10 09:00:00"), PODCAST, None),
    stream(at("2025-06-01 18:00:00"), FULL, 2),
    stream(at("2025-06-01 20:00:00"), FULL, 2),
]


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    root = tmp_path_factory.mktemp("listening")
    settings = Settings(
        raw_zone_url=str(root / "raw"),
        duckdb_path=str(root / "tunelake.duckdb"),
        pipelines_dir=str(root / "pipelines"),
    )
    summary = import_history(settings, [exports.write_zip(root / "export.zip", {"MyData/endsong_0.json": STREAMS})])
    assert summary.complete
    assert run_dbt(["build"], settings=settings).success
    # dbt-duckdb keeps its connection open in this process: one of the same configuration.
    with duckdb.connect(settings.duckdb_path) as con:
        yield con


def test_every_stream_is_one_listen(marts):
    assert marts.sql("select item_type, count(*) from marts.fct_listens group by 1 order by 1").fetchall() == [
        ("episode", 1),
        ("track", 7),
    ]


def test_a_gap_of_more_than_30_minutes_starts_a_new_session(marts):
    sessions = marts.sql(
        "select session_started_at, session_ended_at, play_count, minutes_played "
        "from marts.fct_listening_sessions order by session_started_at"
    ).fetchall()
    assert len(sessions) == 7
    # A gap of exactly 30 minutes keeps the session; the next, a second longer, starts another.
    assert sessions[0][1:] == (SECOND_END, 2, 6.7)
    assert sessions[0][0] == FIRST_END - timedelta(milliseconds=FULL)
    assert sessions[1][1:] == (THIRD_END, 1, 3.3)
    assert [row[2] for row in sessions[2:]] == [1, 1, 1, 1, 1]


def test_daily_and_hourly_listening_count_plays_skips_and_minutes(marts):
    daily = marts.sql(
        "select listened_date, play_count, music_play_count, skip_count, minutes_played "
        "from marts.fct_listens_daily order by 1"
    ).fetchall()
    assert [(str(day), plays, music, skips, minutes) for day, plays, music, skips, minutes in daily] == [
        ("2024-01-01", 3, 3, 0, 10.0),
        ("2024-01-02", 1, 1, 1, 0.2),
        ("2024-01-03", 1, 1, 0, 4.2),
        ("2024-01-10", 1, 0, 0, 30.0),
        ("2025-06-01", 2, 2, 0, 6.7),
    ]
    hours = marts.sql(
        "select hour_of_day, iso_weekday, play_count from marts.fct_listens_hourly "
        "where listened_date = date '2024-01-01' order by 1"
    ).fetchall()
    # 1 January 2024 was a Monday; the second stream ended at 10:33:20, the third at 11:06:41.
    assert hours == [(10, 1, 2), (11, 1, 1)]


def test_first_listens_name_when_each_track_and_artist_was_discovered(marts):
    firsts = marts.sql(
        "select discovery_kind, first_track_name, artist_name, first_listened_at, play_count "
        "from marts.fct_first_listens order by discovery_kind, first_listened_at"
    ).fetchall()
    assert firsts == [
        ("artist", "Song 0", "Band", FIRST_END, 7),
        ("track", "Song 0", "Band", FIRST_END, 2),
        ("track", "Song 1", "Band", SECOND_END, 2),
        ("track", "Song 2", "Band", at("2024-01-02 20:00:00"), 3),
    ]


def test_the_yearly_recap_counts_minutes_discoveries_streaks_and_skips(marts):
    recap = marts.sql(
        "select listened_year, play_count, music_play_count, minutes_played, other_minutes_played, "
        "top_artist_name, top_track_name, new_artist_count, new_track_count, listening_day_count, "
        "longest_streak_days, skip_rate from marts.fct_listening_yearly order by 1"
    ).fetchall()
    assert recap == [
        # Song 1 (200 s + 250 s) beats Song 0 (200 s + 200 s); 1 to 3 January is the streak.
        (2024, 6, 5, 44.4, 30.0, "Band", "Song 1", 1, 3, 4, 3, 0.167),
        (2025, 2, 2, 6.7, 0.0, "Band", "Song 2", 0, 0, 1, 1, 0.0),
    ]
    top = marts.sql(
        "select item_kind, yearly_rank, track_name, play_count, minutes_played from marts.fct_listening_yearly_top "
        "where listened_year = 2024 order by item_kind, yearly_rank"
    ).fetchall()
    assert top == [
        ("artist", 1, None, 5, 14.4),
        ("track", 1, "Song 1", 2, 7.5),
        ("track", 2, "Song 0", 2, 6.7),
        ("track", 3, "Song 2", 1, 0.2),
    ]


def test_account_data_that_repeats_the_extended_history_adds_only_the_plays_it_alone_has(tmp_path):
    """Account data is minute-precise and names only: the same play within 90 s is the stream."""
    settings = Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    streams = [stream(at("2025-03-01 10:00:00"), FULL, 0), stream(at("2025-03-01 10:04:00"), FULL, 1)]
    music = exports.account_music(3)
    for play, end_time in zip(music, ["2025-03-01 10:00", "2025-03-01 10:05", "2025-03-01 10:09"], strict=True):
        play["endTime"] = end_time
    podcast = exports.account_podcasts(1)
    podcast[0]["endTime"] = "2025-03-01 12:00"
    files = {
        "Spotify Extended Streaming History/Streaming_History_Audio_2025.json": streams,
        "MyData/StreamingHistory_music_0.json": music,
        "MyData/StreamingHistory_podcast_0.json": podcast,
    }
    assert import_history(settings, [exports.write_zip(tmp_path / "export.zip", files)]).complete
    assert run_dbt(["build"], settings=settings).success
    with duckdb.connect(settings.duckdb_path) as con:
        listens = con.sql(
            "select source, item_type, coalesce(track_name, episode_name), is_resolved "
            "from marts.fct_listens order by ended_at"
        ).fetchall()
    # Song 0 at 10:00 and Song 1 at 10:05 (60 s after the stream's 10:04:00) are the streams;
    # Song 2 at 10:09 and the episode only the account data has. No known track is called Song 2.
    assert listens == [
        ("extended_history", "track", "Song 0", True),
        ("extended_history", "track", "Song 1", True),
        ("account_data", "track", "Song 2", False),
        ("account_data", "episode", "Episode 0", False),
    ]
