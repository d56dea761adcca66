"""The nbunify server extension on a real Jupyter server: netron UI, model files, API, authentication."""

from __future__ import annotations

import datetime
import json
import os
import re
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

import netron
import pytest
from traitlets.config import Config

import nbunify
from nbunify.model_files import publish
from nbunify.server import route_table
from nbunify.server.netron import netron_dir, patch_index_html, read_index_html
from nbunify.server.security import PathRefused, is_plain_file_name, resolve_in_root, resolve_served_file

NOW = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
MODEL_BYTES = b"\x08\x07model bytes\x00\xff" * 1000
SECRET_BYTES = b"secret outside the models directory"


@pytest.fixture(autouse=True)
def models(nbunify_models_dir):
    return nbunify_models_dir


@pytest.fixture
def secret(tmp_path):
    """A file next to the models directory, which no request may reach."""
    path = tmp_path / "secret.onnx"
    path.write_bytes(SECRET_BYTES)
    return path


def meta_date(html: str) -> str:
    return re.search(r'<meta name="date" content="([^"]*)">', html).group(1)


def consent_cookie(response) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        cookie.load(header)
    return cookie


# -- path checks (pure functions) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["..", ".", "", ".partial-1x2", ".hidden", "a/b", "a\\b", "/etc/passwd", "a\x00b", "a\nb", "a b.onnx", "-x"]
)
def test_plain_file_name_refuses(name):
    assert not is_plain_file_name(name)


def test_plain_file_name_accepts_what_publish_makes(models):
    assert is_plain_file_name(publish(MODEL_BYTES, title="My Net (v2).keras")["name"])


def test_resolve_served_file_follows_links_only_within_the_directory(models, secret):
    (models / "real.onnx").write_bytes(MODEL_BYTES)
    os.symlink(models / "real.onnx", models / "alias.onnx")
    os.symlink(secret, models / "out.onnx")
    os.symlink("../secret.onnx", models / "relative-out.onnx")
    assert resolve_served_file(models, "alias.onnx") == (models / "real.onnx").resolve()
    for name in ["out.onnx", "relative-out.onnx", "missing.onnx", "../secret.onnx"]:
        with pytest.raises(PathRefused) as refused:
            resolve_served_file(models, name)
        assert refused.value.status == 404


def test_resolve_in_root_allows_hidden_files_only_when_jupyter_does(tmp_path):
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "net.onnx").write_bytes(MODEL_BYTES)
    with pytest.raises(PathRefused, match="hidden"):
        resolve_in_root(tmp_path, ".cache/net.onnx")
    assert resolve_in_root(tmp_path, ".cache/net.onnx", allow_hidden=True) == (tmp_path / ".cache" / "net.onnx").resolve()


# -- netron page ---------------------------------------------------------------------------------


def test_patch_index_html_dates_the_installed_page_now():
    original = read_index_html()
    patched = patch_index_html(original, NOW)
    assert meta_date(patched) == "2031-01-02 03:04:05"
    assert len(re.findall(r'name="date"', patched)) == 1
    assert re.sub(r'name="date" content="[^"]*"', "", patched) == re.sub(r'name="date" content="[^"]*"', "", original)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("<meta name='date' content='2020-01-01 00:00:00' />", "<meta name='date' content=\"2031-01-02 03:04:05\" />"),
        ('<META content="2020-01-01" name="date">', '<META content="2031-01-02 03:04:05" name="date">'),
        ('<meta name="date">', '<meta name="date" content="2031-01-02 03:04:05">'),
        ('<meta name="version" content="9.3.3">', '<meta name="version" content="9.3.3">'),
    ],
)
def test_patch_index_html_handles_tag_variants(tag, expected):
    assert patch_index_html(f"<head>{tag}</head>", NOW) == f"<head>{expected}</head>"


def test_patch_index_html_converts_to_utc():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert meta_date(patch_index_html('<meta name="date" content="x">', NOW.astimezone(paris))) == "2031-01-02 03:04:05"
    assert meta_date(patch_index_html('<meta name="date" content="x">', NOW.replace(tzinfo=None))) == "2031-01-02 03:04:05"


@pytest.mark.parametrize("path", ["nbunify/netron/", "nbunify/netron/index.html"])
async def test_netron_index_is_fresh_consented_and_confined(raw_fetch, jp_base_url, path):
    response = await raw_fetch(path)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.body.decode()
    assert "netron" in html.lower() and '<script type="text/javascript" src="index.js">' in html
    served_date = datetime.datetime.strptime(meta_date(html), "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    assert abs(datetime.datetime.now(datetime.timezone.utc) - served_date) < datetime.timedelta(minutes=5)

    consent = consent_cookie(response)["consent"]
    assert abs(int(consent.value) - time.time() * 1000) < 5 * 60 * 1000
    assert consent["path"] == f"{jp_base_url}nbunify/netron/"
    assert consent["samesite"] == "Lax"
    assert not consent["httponly"], "netron reads the cookie from document.cookie"

    policy = response.headers["Content-Security-Policy"]
    directives = [directive.strip() for directive in policy.split(";")]
    for expected in ["default-src 'self'", "script-src 'self'", "connect-src 'self' data: blob:", "frame-ancestors 'self'"]:
        assert expected in directives
    # Blocked analytics beacons are expected; reporting each one would flood the server log.
    assert not [directive for directive in directives if directive.startswith("report-uri")]
    assert "X-Frame-Options" not in response.headers


async def test_netron_without_slash_redirects_to_the_page(raw_fetch, jp_base_url):
    response = await raw_fetch("nbunify/netron?url=x.onnx")
    assert response.code in (301, 302)
    assert response.headers["Location"] == f"{jp_base_url}nbunify/netron/?url=x.onnx"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("browser.js", "text/javascript"), ("worker.js", "text/javascript"), ("grapher.css", "text/css"),
     ("onnx-metadata.json", "application/json"), ("icon.png", "image/png"), ("favicon.ico", "image/x-icon")],
)
async def test_netron_static_files_are_served(raw_fetch, name, content_type):
    response = await raw_fetch(f"nbunify/netron/{name}")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.body == Path(netron_dir(), name).read_bytes()
    head = await raw_fetch(f"nbunify/netron/{name}", method="HEAD")
    assert head.code == 200 and int(head.headers["Content-Length"]) == len(response.body)


@pytest.mark.parametrize(
    "path",
    ["server.py", "__init__.py", "__pycache__/", "__pycache__/server.cpython-311.pyc", "", "missing.js",
     "../jupyter_server/__init__.py", "%2e%2e/jupyter_server/__init__.py", "..%2Fjupyter_server%2F__init__.py",
     "..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd"],
)
async def test_netron_serves_nothing_else(raw_fetch, path):
    response = await raw_fetch(f"nbunify/netron/{path}" if path else "nbunify/netron//")
    assert response.code in (403, 404)
    assert b"import" not in response.body and b"root:" not in response.body


# -- model files ---------------------------------------------------------------------------------


async def test_model_file_is_served_as_bytes(raw_fetch, models):
    (models / "tiny-0123456789ab.onnx").write_bytes(MODEL_BYTES)
    response = await raw_fetch("nbunify/models/tiny-0123456789ab.onnx?cb=1700000000000")
    assert response.code == 200
    assert response.body == MODEL_BYTES
    assert response.headers["Content-Type"] == "application/octet-stream"
    head = await raw_fetch("nbunify/models/tiny-0123456789ab.onnx", method="HEAD")
    assert head.code == 200 and int(head.headers["Content-Length"]) == len(MODEL_BYTES) and head.body == b""
    part = await raw_fetch("nbunify/models/tiny-0123456789ab.onnx", headers={"Range": "bytes=2-12"})
    assert part.code == 206 and part.body == MODEL_BYTES[2:13]


async def test_symlink_to_a_file_inside_models_is_served(raw_fetch, models):
    (models / "real.onnx").write_bytes(MODEL_BYTES)
    os.symlink(models / "real.onnx", models / "alias.onnx")
    response = await raw_fetch("nbunify/models/alias.onnx")
    assert response.code == 200 and response.body == MODEL_BYTES


@pytest.mark.parametrize(
    "path",
    ["../secret.onnx", "%2e%2e/secret.onnx", "%2E%2E%2Fsecret.onnx", "..%2Fsecret.onnx", "..%5Csecret.onnx",
     "{secret}", "{secret_encoded}", "link-out.onnx", "dir-link/secret.onnx", "dir-link%2Fsecret.onnx",
     ".partial-x", ".hidden.onnx", "sub/inner.onnx", "sub%2Finner.onnx", "sub", "", "missing.onnx"],
)
async def test_model_route_refuses_everything_but_plain_names(raw_fetch, models, secret, path):
    (models / ".partial-x").write_bytes(SECRET_BYTES)
    (models / ".hidden.onnx").write_bytes(SECRET_BYTES)
    (models / "sub").mkdir()
    (models / "sub" / "inner.onnx").write_bytes(SECRET_BYTES)
    os.symlink(secret, models / "link-out.onnx")
    os.symlink(secret.parent, models / "dir-link")
    path = path.format(secret=secret, secret_encoded=str(secret).replace("/", "%2F"))
    response = await raw_fetch(f"nbunify/models/{path}")
    assert response.code in (403, 404), response.code
    assert SECRET_BYTES not in response.body


# -- JSON API ------------------------------------------------------------------------------------


async def test_api_lists_only_servable_models(jp_fetch, models, secret):
    assert json.loads((await jp_fetch("nbunify", "api", "models")).body) == {"models": []}
    published = publish(MODEL_BYTES, title="My Net.onnx")
    (models / ".partial-abc").write_bytes(b"half")
    os.symlink(secret, models / "link-out.onnx")
    listing = json.loads((await jp_fetch("nbunify", "api", "models")).body)
    name = published["name"]
    assert listing == {"models": [{"name": name, "title": name, "url": f"nbunify/models/{name}", "size": len(MODEL_BYTES)}]}


async def test_api_publishes_a_file_of_the_root_dir(jp_fetch, raw_fetch, jp_root_dir, models):
    (jp_root_dir / "nets").mkdir()
    (jp_root_dir / "nets" / "lenet.onnx").write_bytes(MODEL_BYTES)
    response = await jp_fetch("nbunify", "api", "models", method="POST", body=json.dumps({"path": "nets/lenet.onnx"}))
    published = json.loads(response.body)
    assert published["title"] == "lenet.onnx" and published["size"] == len(MODEL_BYTES)
    assert re.fullmatch(r"lenet-[0-9a-f]{12}\.onnx", published["name"])
    assert Path(published["file"]).parent == models
    served = await raw_fetch(published["url"])
    assert served.code == 200 and served.body == MODEL_BYTES


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("{not json", 400, "must be JSON"),
        (json.dumps(["nets/lenet.onnx"]), 400, "must be JSON"),
        (json.dumps({"file": "lenet.onnx"}), 400, "must be JSON"),
        (json.dumps({"path": ""}), 400, "relative to the Jupyter root"),
        (json.dumps({"path": 3}), 400, "relative to the Jupyter root"),
        (json.dumps({"path": "../outside.onnx"}), 403, "outside the Jupyter root"),
        (json.dumps({"path": "nets/../../outside.onnx"}), 403, "outside the Jupyter root"),
        (json.dumps({"path": "link-out.onnx"}), 403, "outside the Jupyter root"),
        (json.dumps({"path": "{absolute}"}), 400, "absolute path"),
        (json.dumps({"path": ".cache/hidden.onnx"}), 403, "hidden"),
        (json.dumps({"path": "missing.onnx"}), 404, "no file 'missing.onnx'"),
        (json.dumps({"path": "nets"}), 400, "is a directory"),
        (json.dumps({"path": "empty.onnx"}), 400, "empty"),
    ],
)
async def test_api_publish_refusals_say_what_is_wrong(raw_fetch, jp_root_dir, tmp_path, body, status, words):
    (jp_root_dir / "nets").mkdir()
    (jp_root_dir / ".cache").mkdir()
    (jp_root_dir / ".cache" / "hidden.onnx").write_bytes(MODEL_BYTES)
    (jp_root_dir / "empty.onnx").write_bytes(b"")
    outside = tmp_path / "outside.onnx"
    outside.write_bytes(SECRET_BYTES)
    os.symlink(outside, jp_root_dir / "link-out.onnx")
    body = body.replace("{absolute}", str(outside))
    response = await raw_fetch("nbunify/api/models", method="POST", body=body)
    assert response.code == status
    assert response.headers["Content-Type"].startswith("application/json")
    message = json.loads(response.body)["message"]
    assert words in message, message
    assert message[0].isupper() or message[0] == "'", message


async def test_api_info(jp_fetch, models):
    info = json.loads((await jp_fetch("nbunify", "api", "info")).body)
    assert info == {"version": nbunify.__version__, "netron_version": netron.__version__, "models_dir": str(models)}


class TestModelsDirSetting:
    @pytest.fixture
    def jp_server_config(self, tmp_path):
        configured = tmp_path / "configured-models"
        return Config({"ServerApp": {"jpserver_extensions": {"nbunify": True}}, "NbunifyConfig": {"models_dir": str(configured)}})

    async def test_setting_reaches_server_and_kernels(self, jp_fetch, tmp_path):
        configured = tmp_path / "configured-models"
        info = json.loads((await jp_fetch("nbunify", "api", "info")).body)
        assert info["models_dir"] == str(configured)
        # Kernels inherit the server's environment.
        assert os.environ["NBUNIFY_MODELS_DIR"] == str(configured)


# -- authentication ------------------------------------------------------------------------------

ROUTES = [
    ("GET", "nbunify/netron/"),
    ("GET", "nbunify/netron/index.html"),
    ("GET", "nbunify/netron"),
    ("GET", "nbunify/netron/browser.js"),
    ("HEAD", "nbunify/netron/browser.js"),
    ("GET", "nbunify/netron/missing.js"),
    ("GET", "nbunify/models/tiny.onnx"),
    ("HEAD", "nbunify/models/tiny.onnx"),
    ("GET", "nbunify/models/..%2Fsecret.onnx"),
    ("GET", "nbunify/api/models"),
    ("POST", "nbunify/api/models"),
    ("GET", "nbunify/api/info"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_anonymous_requests_are_refused_without_redirect(raw_fetch, models, method, path):
    (models / "tiny.onnx").write_bytes(MODEL_BYTES)
    body = json.dumps({"path": "x.onnx"}) if method == "POST" else None
    response = await raw_fetch(path, anonymous=True, method=method, body=body)
    assert response.code in (401, 403)
    assert "Location" not in response.headers
    assert MODEL_BYTES not in response.body and b"consent" not in response.body
    assert "consent" not in consent_cookie(response)


def test_every_handler_method_is_marked_authenticated(jp_serverapp):
    for pattern, handler, _ in route_table("/"):
        assert jp_serverapp.web_app._check_handler_auth(pattern, handler) == []


async def test_cookie_login_reaches_models_from_pages_of_this_server_only(raw_fetch, jp_base_url, models):
    (models / "tiny.onnx").write_bytes(MODEL_BYTES)
    # The netron iframe fetches with the browser's login cookie, not a token.
    login = await raw_fetch("nbunify/api/info")
    cookie = SimpleCookie()
    for header in login.headers.get_list("Set-Cookie"):
        cookie.load(header)
    (login_name,) = [name for name in cookie if name.startswith("username-")]
    cookie_header = {"Cookie": f"{login_name}={cookie[login_name].coded_value}"}
    origin = "http://" + login.effective_url.split("/")[2]

    same_site = await raw_fetch("nbunify/models/tiny.onnx", anonymous=True,
                                headers={**cookie_header, "Referer": f"{origin}{jp_base_url}nbunify/netron/"})
    assert same_site.code == 200 and same_site.body == MODEL_BYTES
    page = await raw_fetch("nbunify/netron/", anonymous=True, headers=cookie_header)
    assert page.code == 200
    cross_site = await raw_fetch("nbunify/models/tiny.onnx", anonymous=True,
                                 headers={**cookie_header, "Referer": "https://evil.example/"})
    assert cross_site.code == 403 and MODEL_BYTES not in cross_site.body


# -- a Binder-like base URL ----------------------------------------------------------------------


class TestUnderJupyterHubPrefix:
    @pytest.fixture
    def jp_base_url(self):
        return "/user/nbunify-test/"

    async def test_routes_live_under_the_base_url(self, raw_fetch, http_server_client, models):
        (models / "tiny.onnx").write_bytes(MODEL_BYTES)
        page = await raw_fetch("nbunify/netron/")
        assert page.code == 200
        assert consent_cookie(page)["consent"]["path"] == "/user/nbunify-test/nbunify/netron/"
        assert (await raw_fetch("nbunify/netron/view.js")).code == 200
        assert (await raw_fetch("nbunify/models/tiny.onnx")).body == MODEL_BYTES
        listing = json.loads((await raw_fetch("nbunify/api/models")).body)
        assert [model["url"] for model in listing["models"]] == ["nbunify/models/tiny.onnx"]
        outside = await http_server_client.fetch("/nbunify/api/info", raise_error=False)
        assert outside.code == 404


# -- the real browser ----------------------------------------------------------------------------


@pytest.mark.browser
async def test_netron_renders_a_model_in_a_sandboxed_iframe(raw_fetch, jp_root_dir, jp_base_url, jp_auth_header):
    import onnx
    import playwright.async_api as async_api
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Relu", ["x"], ["h"]), helper.make_node("Sigmoid", ["h"], ["y"])]
    value = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 4])  # noqa: E731
    onnx.save(helper.make_model(helper.make_graph(nodes, "tiny", [value("x")], [value("y")])), jp_root_dir / "tiny.onnx")
    published = json.loads((await raw_fetch("nbunify/api/models", method="POST", body='{"path": "tiny.onnx"}')).body)
    origin = "http://" + (await raw_fetch("nbunify/api/info")).effective_url.split("/")[2]
    token = jp_auth_header["Authorization"].split()[-1]

    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = await browser.new_page()
        errors, elsewhere = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: elsewhere.append(request.url) if not request.url.startswith(origin) else None)
        # The token in a URL logs the browser in (cookie); the PNG page stands in for JupyterLab as the parent.
        await page.goto(f"{origin}{jp_base_url}nbunify/netron/icon.png?token={token}")
        # netron decodes the url parameter: encode it, or a base URL like /a%40b/ turns into /a@b/.
        src = f"{jp_base_url}nbunify/netron/?url={quote(jp_base_url + published['url'], safe='')}"
        await page.evaluate(
            """(src) => { const frame = document.createElement('iframe'); frame.id = 'netron';
            frame.setAttribute('sandbox', 'allow-scripts allow-same-origin'); frame.src = src;
            frame.style.width = '1000px'; frame.style.height = '700px'; document.body.appendChild(frame); }""",
            src,
        )
        frame = await (await page.wait_for_selector("#netron")).content_frame()
        # netron replaces window.eval, so only selector waits work inside its page.
        await frame.wait_for_selector("svg#canvas g.node >> text=Sigmoid", timeout=30000)
        await frame.wait_for_selector("body.default")
        assert any(cookie["name"] == "consent" for cookie in await page.context.cookies())
        await browser.close()
    assert errors == []
    assert all(url.startswith(("data:", "blob:")) for url in elsewhere), elsewhere
