"""The official `openai` Python client against a running `sketchrt serve` (OpenAiClientTest starts
it): models, completions, chat, streaming with usage, n choices, logprobs and the errors it maps to its own
exception types. Expected texts come from the Java test, which runs each set alone.

usage: python3 openai_client_check.py BASE_URL API_KEY EXPECTED.json
"""

import json
import sys

import openai


def check(ok, what):
    if not ok:
        raise AssertionError(what)


def main(base_url, key, expected_file):
    with open(expected_file, encoding="utf-8") as f:
        want = json.load(f)
    client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=60)

    models = client.models.list()
    ids = sorted(m.id for m in models.data)
    check(ids == ["add", "sub"], f"models: {ids}")
    check(all(getattr(m, "parent", None) == want["base"] for m in models.data), "parent = base")

    for tuned in ("sub", "add"):
        r = client.completions.create(model=tuned, prompt=want["prompt"], max_tokens=8, temperature=0)
        check(r.object == "text_completion", r.object)
        check(r.model == tuned, r.model)
        check(r.choices[0].text == want["text"][tuned], f"{tuned}: {r.choices[0].text!r}")
        check(r.choices[0].finish_reason in ("stop", "length"), r.choices[0].finish_reason)
        check(r.usage.prompt_tokens == want["prompt_tokens"], f"usage {r.usage}")
        check(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, "total")

    chat = client.chat.completions.create(
        model="sub",
        messages=[{"role": "user", "content": want["prompt"]}],
        max_completion_tokens=8,
        temperature=0,
    )
    check(chat.choices[0].message.role == "assistant", "role")
    check(chat.choices[0].message.content == want["text"]["sub"], f"chat: {chat.choices[0]}")

    stream = client.chat.completions.create(
        model="add",
        messages=[{"role": "user", "content": want["prompt"]}],
        max_tokens=8,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        check(usage is None, "nothing after the usage chunk")
        if chunk.usage is not None:
            check(chunk.choices == [], "the usage chunk has no choices")
            usage = chunk.usage
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    check(text == want["text"]["add"], f"streamed chat: {text!r}")
    check(usage is not None and usage.prompt_tokens == want["prompt_tokens"], f"usage {usage}")
    check(finish in ("stop", "length"), f"finish {finish}")

    streamed = "".join(
        c.choices[0].text
        for c in client.completions.create(
            model="sub", prompt=want["prompt"], max_tokens=8, temperature=0, stream=True
        )
    )
    check(streamed == want["text"]["sub"], f"streamed completion: {streamed!r}")

    n = client.completions.create(
        model="add", prompt=want["prompt"], max_tokens=6, temperature=1.3, seed=5, n=2
    )
    got = [c.text for c in sorted(n.choices, key=lambda c: c.index)]
    check(got == want["n_seeded"], f"n=2: {got} vs {want['n_seeded']}")

    # logprobs parse into the client's types: completions' legacy object and chat's content list
    lp = client.completions.create(
        model="sub", prompt=want["prompt"], max_tokens=8, temperature=0, logprobs=2
    ).choices[0].logprobs
    check(len(lp.tokens) == len(lp.token_logprobs) == len(lp.text_offset), f"logprobs {lp}")
    check(all(v <= 0 for v in lp.token_logprobs), f"log-probabilities {lp.token_logprobs}")
    check(all(max(top.values()) == v for top, v in zip(lp.top_logprobs, lp.token_logprobs)), "greedy")
    content = client.chat.completions.create(
        model="sub",
        messages=[{"role": "user", "content": want["prompt"]}],
        max_tokens=4,
        temperature=0,
        logprobs=True,
        top_logprobs=2,
    ).choices[0].logprobs.content
    check(all(len(t.top_logprobs) == 2 and t.logprob == t.top_logprobs[0].logprob for t in content),
          f"chat logprobs {content}")
    check(all(bytes(t.bytes).decode("utf-8") == t.token for t in content), "bytes are the token's")

    try:
        client.completions.create(model="mul", prompt="1", max_tokens=1)
        check(False, "an unknown model must fail")
    except openai.NotFoundError as e:
        check("'mul'" in e.message, e.message)
    try:
        client.completions.create(model="sub", prompt="1+1=" * 20, max_tokens=1)
        check(False, "a prompt over the context must fail")
    except openai.BadRequestError as e:
        check(e.body["param"] == "prompt", str(e.body))
    try:
        openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()
        check(False, "a wrong key must fail")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, str(e))
    print("openai client: every check passed")


if __name__ == "__main__":
    main(*sys.argv[1:])
