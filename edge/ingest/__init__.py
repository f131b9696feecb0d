"""Frame ingest: sources (RTSP, video file, image folder) and one latest-frame reader per camera."""
