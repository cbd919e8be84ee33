"""schemathesis against the served OpenAPI schema of a real `arcade serve`, with a real token:
whatever it generates, the arcade answers without a 5xx. Bounded: a fixed number of examples
per operation, and no example database, so every run is the same size."""

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES = 40


def test_no_generated_request_gets_a_server_error(make_server):
    server = make_server("scores_per_minute = 100000\n")  # every generated score reaches the replay
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    headers = {"Authorization": f"Bearer {server.token('fuzz')}"}
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_without_a_server_error(case):
            if "game_id" in (case.path_parameters or {}):
                case.path_parameters["game_id"] = "dino"  # a game that exists, so the body is read
            response = case.call(headers=headers, timeout=30)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
            )

        answers_without_a_server_error()
    assert "POST /api/v1/games/{game_id}/scores" in tried and "POST /oauth/token" in tried
