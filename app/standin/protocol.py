"""The OpenAI chat-completions wire shapes the stand-in reads and writes. Pure: no I/O."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.judge import STANDIN_MODEL
from app.standin.rating import Dimension, dimensions_from_schema

MALFORMED_CONTENT = "I am unable to provide a rating in the requested format for this answer."


@dataclass(frozen=True)
class ChatRequest:
    model: str
    dimensions: list[Dimension]
    user_text: str
    raw: Mapping[str, Any]
    images: int = 0  # image_url parts carrying a data: URL (what a vision judge would look at)


def read_chat_request(request: object) -> ChatRequest:
    """The parts of a chat request the stand-in uses; ValueError says what is missing."""
    if not isinstance(request, dict):
        raise ValueError("request body must be a JSON object")
    try:
        properties = request["response_format"]["json_schema"]["schema"]["properties"]
    except (KeyError, TypeError):
        raise ValueError("response_format.json_schema.schema.properties is required") from None
    if not isinstance(properties, dict):
        raise ValueError("response_format.json_schema.schema.properties must be an object")
    dimensions = dimensions_from_schema(properties)
    return ChatRequest(
        str(request.get("model")), dimensions, _user_text(request), request, _images(request)
    )


def _images(request: Mapping[str, Any]) -> int:
    """How many image parts with inline data the messages carry."""
    count = 0
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else None
            count += isinstance(url, str) and url.startswith("data:image/")
    return count


def _user_text(request: Mapping[str, Any]) -> str:
    """The last user message's text (its text parts, joined, when content is a list)."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        raise ValueError("messages must be a list")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                )
    raise ValueError("no user message")


def completion(
    request: Mapping[str, Any], content: str | None, number: int, now: float | None = None
) -> dict[str, Any]:
    """A `chat.completion` body carrying `content`, numbered `number`, with word-count usage."""
    return {
        "id": f"chatcmpl-standin-{number}",
        "object": "chat.completion",
        "created": int(time.time() if now is None else now),
        "model": STANDIN_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(request, content),
    }


def usage(request: Mapping[str, Any], content: str | None) -> dict[str, int]:
    # Rough word counts: good enough for a stand-in that bills nobody.
    prompt = sum(
        len(m["content"].split())
        for m in request.get("messages", [])
        if isinstance(m, dict) and isinstance(m.get("content"), str)
    )
    reply = len(content.split()) if content else 0
    return {"prompt_tokens": prompt, "completion_tokens": reply, "total_tokens": prompt + reply}


def model_list() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": STANDIN_MODEL, "object": "model", "owned_by": "mmrarebench"}],
    }


def error_body(status: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


def shape_content(json_text: str, outcome: str) -> str | None:
    """The reply content for a fault outcome: the ratings' JSON, or its malformed variants."""
    if outcome == "malformed":
        return MALFORMED_CONTENT
    if outcome == "null_content":
        return None
    if outcome == "prose":
        return f"Here is my assessment.\n```json\n{json_text}\n```\nThat is all."
    return json_text
