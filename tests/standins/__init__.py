"""Local stand-ins for production services, started as real processes on 127.0.0.1."""
