"""Dramatiq on Redis behind the job-queue port (the folder is not named `dramatiq`, which
would shadow the library)."""
