"""``POST /api/files`` (multipart) stores uploads in ``$CAMARKETPLACE_DATA_DIR/uploads``."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.responses import FileResponse

from camarketplace.db import Row
from camarketplace.state import CurrentUser, State, new_id, now_iso

router = APIRouter(prefix="/api/files")

MAX_BYTES = 5 * 1024 * 1024
_COLUMNS = "id, filename, content_type, size, sha256, created_at"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return cleaned or "upload"


def _public(row: Row) -> dict[str, object]:
    return {
        "id": row["id"],
        "filename": row["filename"],
        "contentType": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "createdAt": row["created_at"],
    }


@router.post("", status_code=201)
def upload(
    file: Annotated[UploadFile, File()], user: CurrentUser, state: State
) -> dict[str, object]:
    """Store one file (at most 5 MB) for the signed-in customer."""
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(413, f"file larger than {MAX_BYTES} bytes")
    file_id = new_id("file")
    name = _safe_name(file.filename or "")
    target = state.settings.data_dir / "uploads" / file_id / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    content_type = file.content_type or "application/octet-stream"
    digest = hashlib.sha256(data).hexdigest()
    state.db.execute(
        f"INSERT INTO files (user_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user["id"], file_id, name, content_type, len(data), digest, now_iso()),
    )
    return show(file_id, user, state)


def _load(file_id: str, user: Row, state: State) -> Row:
    row = state.db.fetchone(
        f"SELECT {_COLUMNS} FROM files WHERE id = ? AND user_id = ?", (file_id, user["id"])
    )
    if row is None:
        raise HTTPException(404, f"no file {file_id}")
    return row


@router.get("/{file_id}")
def show(file_id: str, user: CurrentUser, state: State) -> dict[str, object]:
    """An uploaded file's metadata."""
    return _public(_load(file_id, user, state))


@router.get("/{file_id}/content")
def content(file_id: str, user: CurrentUser, state: State) -> FileResponse:
    """An uploaded file's bytes."""
    row = _load(file_id, user, state)
    path = state.settings.data_dir / "uploads" / row["id"] / row["filename"]
    if not path.is_file():
        raise HTTPException(410, f"file {file_id} is recorded but missing from storage")
    return FileResponse(path, media_type=row["content_type"], filename=row["filename"])
