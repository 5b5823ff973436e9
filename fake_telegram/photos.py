"""Photos the bot uploads: Telegram's checks, the PhotoSize lists and file ids it issues."""

from __future__ import annotations

import io
import itertools
import warnings
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from fake_telegram.records import JSON, Upload, bad_request

MAX_BYTES = 10 * 1024**2
MAX_WIDTH_PLUS_HEIGHT = 10_000
MAX_ASPECT_RATIO = 20
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG
THUMBNAIL_SIDES = (90, 320, 800, 1280)  # Telegram's s, m, x and y sizes
MAX_SIDE = 2560  # the largest size Telegram keeps
UNKNOWN_FILE = "wrong file identifier/HTTP URL specified"


@dataclass(slots=True)
class StoredPhoto:
    """One uploaded photo: the sizes Telegram made of it and the bytes the bot sent."""

    sizes: list[JSON]
    data: bytes = field(repr=False)


class PhotoStore:
    """Check uploads like Telegram, issue file ids, and resolve file ids sent back."""

    def __init__(self) -> None:
        """Start with no photos."""
        self._by_file_id: dict[str, StoredPhoto] = {}
        self._ids = itertools.count(1)
        self.uploads = 0  # sendPhoto calls that uploaded a new file
        self.reuses = 0  # sendPhoto calls that sent a file_id again

    def reset_records(self) -> None:
        """Zero the counters; issued file ids stay valid, as on Telegram."""
        self.uploads = self.reuses = 0

    def data(self, file_id: str) -> bytes:
        """Return the bytes uploaded for a photo, by the file_id of any of its sizes."""
        return self._by_file_id[file_id].data

    def prepare(self, upload: Upload) -> StoredPhoto:
        """Check an uploaded photo like Telegram; return it with its sizes, not yet kept."""
        width, height = self._check(upload)
        n = next(self._ids)
        longest = max(width, height)
        sizes = [
            _size(n, tag, width, height, side / longest, len(upload.data))
            for tag, side in zip("smxy", THUMBNAIL_SIDES, strict=True)
            if side < longest
        ]
        scale = min(1.0, MAX_SIDE / longest)
        sizes.append(_size(n, "w" if scale < 1 else "o", width, height, scale, len(upload.data)))
        return StoredPhoto(sizes, upload.data)

    def find(self, file_id: str) -> StoredPhoto:
        """Return the photo a file_id names, or fail like Telegram."""
        stored = self._by_file_id.get(file_id)
        if stored is None:
            raise bad_request(UNKNOWN_FILE)
        return stored

    def keep(self, photo: StoredPhoto, *, uploaded: bool) -> list[JSON]:
        """Count a sent photo, issuing its file ids if it was uploaded; return its sizes."""
        if uploaded:
            for size in photo.sizes:
                self._by_file_id[size["file_id"]] = photo
            self.uploads += 1
        else:
            self.reuses += 1
        return photo.sizes

    def _check(self, upload: Upload) -> tuple[int, int]:
        """Check an uploaded photo like Telegram; return its (width, height)."""
        data = upload.data
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_BYTES:
            # The error Telegram's servers give a photo over 10 MB.
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        if not data.startswith(SIGNATURES):
            raise bad_request("IMAGE_PROCESS_FAILED")
        try:
            with warnings.catch_warnings():
                # Huge dimensions are Telegram's error to give, not Pillow's warning.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data))
            with image:
                width, height = image.size
                if not _dimensions_ok(width, height):
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                image.load()  # a truncated or corrupt file fails here
        except Image.DecompressionBombError:
            raise bad_request("PHOTO_INVALID_DIMENSIONS") from None
        except (OSError, UnidentifiedImageError, SyntaxError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        return width, height


def _dimensions_ok(width: int, height: int) -> bool:
    """Apply Telegram's rule: width + height at most 10000, aspect ratio at most 20."""
    if width <= 0 or height <= 0 or width + height > MAX_WIDTH_PLUS_HEIGHT:
        return False
    return max(width, height) / min(width, height) <= MAX_ASPECT_RATIO


def _size(n: int, tag: str, width: int, height: int, scale: float, size: int) -> JSON:
    """Return one PhotoSize of upload n, scaled by scale (file size estimated by area)."""
    return {
        "file_id": f"AgACAgIAAxkDAAI{n:06d}{tag}",
        "file_unique_id": f"AQAD{n:06d}{tag}",
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
        "file_size": max(1, round(size * scale * scale)),
    }
