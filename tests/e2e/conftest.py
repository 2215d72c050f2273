from tests.support.mosquitto import mosquitto_url  # noqa: F401
