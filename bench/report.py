"""The Markdown summary of a run: throughput table with ratios, /auth/me tail latency, cookie sizes."""

from __future__ import annotations

ANCHOR_IDS = ("A", "B", "C")
# Set by the benchmark itself for every Keyturn process, not by --keyturn-env.
BASE_ENV_NAMES = ("APP_ENV", "SESSION_SECRET")
COOKIE_APPS = {"B": "Litestar JWTCookieAuth", "C": "flask-jwt-extended", "keyturn": "Keyturn"}


def markdown(document: dict) -> str:
    sections = [
        _throughput_table(document["scenarios"]),
        _me_latency(document),
        _cookie_table(document["cookies"]),
        _denylist_table(document.get("denylist", [])),
        _delay_table(document.get("revocation_delay", [])),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _denylist_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    lines = [
        "| denied tokens | verify, replica: mean / p99 us | verify, direct Redis: mean / p99 us "
        "| Redis bytes per token | replica bytes per token (traced / RSS) | replica load s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        replica, direct = row["verify_replica"], row["verify_direct"]
        lines.append(
            f"| {row['denied_tokens']:,} | {replica['mean_us']} / {replica['p99_us']} "
            f"| {direct['mean_us']} / {direct['p99_us']} | {row['redis_bytes_per_token']} "
            f"| {row['replica_traced_bytes_per_token']} / {row['replica_rss_bytes_per_token']} "
            f"| {row['replica_load_seconds']} |"
        )
    lines.append("")
    lines.append("Bytes per token include fixed overhead, so only the largest size says what one more token costs.")
    return "\n".join(lines)


def _delay_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    lines = [
        "| stores | revocation check | rounds | requests accepted after logout | delay p50 / p99 / max ms |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['stores']} | {row['check']} | {row['rounds']} | {row['accepted_after_logout']} "
            f"| {row['p50_ms']} / {row['p99_ms']} / {row['max_ms']} |"
        )
    return "\n".join(lines)


def heading(document: dict) -> str:
    """Describe the run above its table: date, machine, software and settings."""
    env = document["environment"]
    packages = env["packages"]
    options = document["options"]
    commit = env["git_commit"] or "unknown"
    state = "" if env["git_worktree_clean"] else " with uncommitted changes"
    return (
        f"# Benchmark run {document['run_id']}\n\n"
        f"{document['date']}, {document['total_seconds']:.0f} s in total, `bench/run.py` at {commit[:12]}{state}.\n"
        f"{env['cpu_model']}, {env['logical_cpus']} logical CPUs, Linux {env['kernel']}; "
        f"servers on CPU {options['server_cpu']}, wrk and drivers on CPU {options['load_cpu']}.\n"
        f"Python {env['python']}, Litestar {packages['litestar']}, PyJWT {packages['PyJWT']}, "
        f"granian {packages['granian']}, gunicorn {packages['gunicorn']}, Flask {packages['Flask']}, "
        f"flask-jwt-extended {packages['flask-jwt-extended']}, {env['wrk']}, Redis {env['redis_server']}, "
        f"PostgreSQL {env['postgresql_server']}.\n"
        f"Load average (1, 5, 15 min) before the run: {_triple(document['load_average_before'])}.\n"
        f"Each scenario: {options['warmup']} s warm-up, then {options['duration']} s measured. "
        f"Extra Keyturn variables: {_extra_env(document)}.\n\n"
    )


def _triple(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values)


def _extra_env(document: dict) -> str:
    extra = {name: value for name, value in document["keyturn_env"].items() if name not in BASE_ENV_NAMES}
    return ", ".join(f"`{name}={value}`" for name, value in extra.items()) or "none"


def me_p99_ratio(scenarios: list[dict]) -> float | None:
    """Return p99 of /auth/me during logins divided by p99 alone, when both were measured."""
    by_id = {result["id"]: result for result in scenarios if result.get("error") is None}
    if "me-alone" not in by_id or "me-logins" not in by_id:
        return None
    alone = by_id["me-alone"]["latency_ms"]["p99"]
    return round(by_id["me-logins"]["latency_ms"]["p99"] / alone, 2) if alone else None


def _throughput_table(scenarios: list[dict]) -> str:
    anchors = {
        result["id"]: result["requests_per_s"]
        for result in scenarios
        if result["id"] in ANCHOR_IDS and result.get("error") is None
    }
    lines = [
        "| scenario | server | load | conns | req/s | p50 ms | p99 ms | non-2xx | vs A | vs B | vs C | others |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in scenarios:
        name = f"{result['id']}: {result['title']}"
        if result.get("error") is not None:
            error = " ".join(str(result["error"]).split())[:160].replace("|", "/")
            lines.append(f"| {name} | {result['server']} | {result['load']} | | failed: {error} | | | | | | | |")
            continue
        latency = result["latency_ms"]
        ratios = [_ratio(result, anchors.get(anchor)) for anchor in ANCHOR_IDS]
        lines.append(
            f"| {name} | {result['server']} | {result['load']} | {result['connections']} "
            f"| {result['requests_per_s']:,.0f} | {latency['p50']:.2f} | {latency['p99']:.2f} "
            f"| {result['non_2xx'] + _socket_error_count(result)} | {' | '.join(ratios)} | {_others(result)} |"
        )
    lines.append("")
    lines.append("non-2xx counts responses outside 200-299 plus socket errors (connect, read, write, timeout).")
    lines.append("vs X is this scenario's req/s divided by anchor X's; paced scenarios offer a fixed rate, so n/a.")
    lines.append("others is the share of the benchmark's CPUs that other programs used during the measurement")
    lines.append("(PostgreSQL and Redis excluded). Above a few percent, figures are lower and noisier than on an idle machine.")
    return "\n".join(lines)


def _ratio(result: dict, anchor_rate: float | None) -> str:
    if result["paced"] or not anchor_rate:
        return "n/a"
    return f"{result['requests_per_s'] / anchor_rate:.2f}x"


def _others(result: dict) -> str:
    usage = result.get("cpu_use")
    if not usage:
        return "n/a"
    return f"{usage['other_share']:.0%}"


def _socket_error_count(result: dict) -> int:
    return sum(result.get("socket_errors", {}).values())


def _me_latency(document: dict) -> str:
    scenarios = {result["id"]: result for result in document["scenarios"] if result.get("error") is None}
    if "me-alone" not in scenarios or "me-logins" not in scenarios:
        return ""
    alone, during = scenarios["me-alone"], scenarios["me-logins"]
    logins = during["logins"]
    return "\n".join([
        f"/auth/me with {alone['connections']} connections, each waiting {alone['pacing_interval_ms']} ms "
        f"after every response: p99 {alone['latency_ms']['p99']:.2f} ms alone, "
        f"{during['latency_ms']['p99']:.2f} ms during logins, ratio {document['me_p99_ratio']}x.",
        f"Logins during the second run: {logins['completed']} of {logins['attempted']} completed at "
        f"{logins['offered_rate_per_s']:g}/s offered, {logins['non_2xx']} non-2xx, "
        f"p50 {logins['latency_ms']['p50']:.1f} ms, p99 {logins['latency_ms']['p99']:.1f} ms.",
    ])


def _cookie_table(cookies: dict[str, dict]) -> str:
    if not cookies:
        return ""
    lines = [
        "| app | access cookie | value bytes | Set-Cookie header value bytes |",
        "| --- | --- | ---: | ---: |",
    ]
    for app, cookie in cookies.items():
        lines.append(
            f"| {COOKIE_APPS.get(app, app)} | {cookie['cookie']} | {cookie['value_bytes']} | {cookie['set_cookie_bytes']} |"
        )
    return "\n".join(lines)
