"""make bench (智能管家): the embedded engine on the questions of bench/assistant_questions.json, written for the
seeded products, each with the passages its answer should come from (or "refuse"); those marked held_out were
written after the engine was tuned on the others, and it was not tuned on them.

Prints: the share of in-scope questions whose answer cites an expected passage among its first three (and the
same for the index's own top 3), the share of out-of-scope and hostile questions refused, the share of price
answers that give the calculator's premium to the fen, and the median and 95th percentile of the time to the
first streamed chunk (the index built before, as the periodic job keeps it). Not a test: nothing fails on these
figures; `--verbose` lists every miss.
"""
import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
QUESTIONS = os.path.join(ROOT, "bench", "assistant_questions.json")
REFUSED_KINDS = {"out-of-scope", "hostile"}


def seeded_database(workdir):
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(32),
           "DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "DATABASE_URL": "sqlite:///" + os.path.join(workdir, "assistant.db"), "FLASK_APP": "wsgi.py"}
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([os.path.join(BIN, "flask"), *command], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(verbose=False):
    seeded_database(tempfile.mkdtemp(prefix="bench-assistant-"))
    sys.path.insert(0, ROOT)
    from app import create_app
    from app.assistant.embedded import EmbeddedEngine, in_scope
    from app.assistant.index import current_index
    from app.catalog import services
    from app.core.clock import db_now, today_local
    from app.core.money import format_yuan

    with open(QUESTIONS, encoding="utf-8") as file:
        questions = json.load(file)
    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        index = current_index()
        build = time.perf_counter() - started
        engine = EmbeddedEngine()
        cited = retrieved = in_scope_total = refused = refusable = priced = price_total = 0
        held_out = held_out_right = 0
        firsts, misses = [], []
        for item in questions:
            started = time.perf_counter()
            events = engine.stream(item["q"], product=item.get("product"))
            first = next(events)
            firsts.append(time.perf_counter() - started)
            answer = first.value if first.kind == "done" else next(e for e in events if e.kind == "done").value
            if item["expect"] == "refuse":
                refusable += 1
                refused += answer.refused
                held_out += item.get("held_out", False)
                held_out_right += item.get("held_out", False) and answer.refused
                if not answer.refused:
                    misses.append(("not refused", item["q"], answer.text[:60]))
                continue
            in_scope_total += 1
            ids = [p.id for p in answer.citations[:3]]
            hit = bool(set(ids) & set(item["expect"]))
            cited += hit
            held_out += item.get("held_out", False)
            held_out_right += item.get("held_out", False) and hit
            scope = in_scope(item["q"], index, item.get("product")) or []
            top3 = [h.passage.id for h in index.search(item["q"], products=scope, k=3)]
            retrieved += bool(set(top3) & set(item["expect"]))
            if not hit:
                misses.append(("source not cited", item["q"], ids))
            if price := item.get("price"):
                price_total += 1
                product = services.get_product(price["product"])
                quote = services.quote_premium(
                    product, plan_code=price["plan"], age=price["age"], gender=price["gender"],
                    social_security=price["social_security"], frequency=price["frequency"], today=today_local(),
                    table=product.rate_table_at(db_now()))
                if format_yuan(quote.per_period_fen) in answer.text:
                    priced += 1
                else:
                    misses.append(("price differs", item["q"], format_yuan(quote.per_period_fen)))
    milliseconds = [t * 1000 for t in firsts]
    print(f"智能管家 (embedded engine): {len(questions)} questions, index of {len(index.passages)} passages "
          f"built in {build:.2f} s")
    print(f"  in scope, expected source cited in the answer's first 3: {cited}/{in_scope_total} "
          f"= {cited / in_scope_total:.1%} (target >= 90%)")
    print(f"  in scope, expected source in the index's top 3:           {retrieved}/{in_scope_total} "
          f"= {retrieved / in_scope_total:.1%}")
    print(f"  out of scope and hostile refused:                         {refused}/{refusable} "
          f"= {refused / refusable:.1%} (target 100%)")
    print(f"  prices equal to the calculator's to the fen:              {priced}/{price_total} "
          f"= {priced / price_total:.1%} (target 100%)")
    print(f"  time to the first chunk: median {statistics.median(milliseconds):.1f} ms, "
          f"p95 {percentile(milliseconds, 0.95):.1f} ms")
    print(f"  of these, the {held_out} held out (not tuned on) right:           {held_out_right}/{held_out}")
    if verbose:
        for miss in misses:
            print("  MISS", *miss)


if __name__ == "__main__":
    main(verbose="--verbose" in sys.argv)
