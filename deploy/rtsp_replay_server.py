"""A real RTSP camera for tests and the demo: loops a video file as a live H.264 stream.

Runs with the system Python that has GStreamer's introspection bindings (Debian: python3-gi,
gir1.2-gst-rtsp-server-1.0 and the GStreamer plugins), not inside the project venv:

    /usr/bin/python3 deploy/rtsp_replay_server.py CLIP.mp4 --port 8554 --mount /cam

The clip is decoded once and fed into a shared live source that seeks back to the start at the end
of the file, so every reader sees one continuous camera. Prints "ready rtsp://..." once serving.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()

    Gst.init(None)
    raw_caps = f"video/x-raw,framerate={args.fps}/1,width={args.width},height={args.height}"
    feeder = Gst.parse_launch(
        f'filesrc location="{args.clip}" ! decodebin ! videoconvert ! videoscale ! videorate ! '
        f"{raw_caps} ! intervideosink channel=loop sync=true"
    )

    def on_message(_bus: Gst.Bus, message: Gst.Message) -> bool:
        if message.type == Gst.MessageType.EOS:
            feeder.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
        elif message.type == Gst.MessageType.ERROR:
            error, _ = message.parse_error()
            print(f"error: {error.message}", file=sys.stderr, flush=True)
            loop.quit()
        return True

    bus = feeder.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    feeder.set_state(Gst.State.PLAYING)

    encoder = (
        f"x264enc speed-preset=ultrafast tune=zerolatency key-int-max={args.fps} ! "
        "video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1"
    )
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( intervideosrc channel=loop ! {raw_caps} ! videoconvert ! {encoder} )")
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"error: cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"ready rtsp://{args.host}:{args.port}{args.mount}", flush=True)
    loop.run()
    feeder.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
