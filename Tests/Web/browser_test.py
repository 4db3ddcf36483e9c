"""The web tool in a real browser (issue #11): headless Chromium driven by Selenium, both from Debian's packages.

Run by WebToolTests (Swift), which starts the real `mapdepot serve` and gives the base URL, a token and a directory:

    browser_test.py queue    BASE TOKEN OUT   # a server without a worker: sign in, draw, estimate, export, pause,
                                              # resume, upload a MultiPolygon and export it; the tasks stay queued
    browser_test.py finish   BASE TOKEN OUT   # with the worker: progress to 100 % by SSE, download the GeoPackage,
                                              # open a delta on the replication page and its diff popup

Each step asserts; a failure exits 1 with what went wrong. The last line printed is a JSON report. Screenshots of
every page go to OUT. No page may log a console error.
"""

import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

PHASE, BASE, TOKEN, OUT = sys.argv[1:5]
report = {}


def fail(message):
    print(json.dumps({"failed": message, **report}), flush=True)
    sys.exit(1)


def wait(what, condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # the page is still loading what is looked for
            pass
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def api(method, path, body=None):
    request = urllib.request.Request(BASE + path, method=method, headers={"x-api-key": TOKEN, "Content-Type": "application/json"})
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data, timeout=30) as response:
        return json.loads(response.read() or b"null")


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def check_console(driver, page):
    errors = console_errors(driver)
    if errors:
        fail(f"console errors on {page}: {errors}")


def sign_in(driver, token):
    driver.get(BASE + "/ui/")
    field = wait("the token field", lambda: driver.find_element(By.ID, "token"))
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#signin button").click()


def click_map(driver, lat, lng):
    """A click on the map at a position: Leaflet's own projection says where that is on the screen."""
    point = driver.execute_script("const p = map.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y];", lat, lng)
    element = driver.find_element(By.ID, "map")
    size = element.size
    ActionChains(driver).move_to_element_with_offset(element, point[0] - size["width"] / 2, point[1] - size["height"] / 2).click().perform()


def click_feature(driver, element):
    """A click on a feature drawn on the map, dispatched on its SVG path at the middle of its box: Leaflet hears it
    through the map, as a user's click, and opens the popup there."""
    driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window,"
        " clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}));", element)


def click(driver, selector):
    """Clicks what `selector` finds; the selection list and the task rows are redrawn when an estimate or an event
    arrives, so an element found a moment before may be gone: find it again until the click lands."""
    def attempt():
        driver.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait(f"a click on {selector}", attempt, timeout=30)


def clear_selections(driver):
    """Deletes every selection, one at a time (the list is redrawn after each)."""
    while driver.find_elements(By.CSS_SELECTOR, "#selections li button.delete"):
        click(driver, "#selections li button.delete")
        time.sleep(0.05)


def task_status(driver, task_id):
    return driver.find_element(By.CSS_SELECTOR, f"#task-{task_id} td.status").text.split("\n")[0]


def click_action(driver, task_id, action):
    """Clicks a task's button; the row is redrawn whenever the task changes (its event stream), so a button found a
    moment before may be gone: find it again until the click lands."""
    click(driver, f"#task-{task_id} button[data-action='{action}']")


def queue():
    driver = browser()
    try:
        # A wrong token is refused with a clear message, and not kept.
        sign_in(driver, "not-a-token")
        message = wait("the refusal", lambda: driver.find_element(By.ID, "signin-status").text)
        if "sign in again" not in message:
            fail(f"a bad token was answered with {message!r}")
        driver.get_log("browser")  # the refused request's 401, logged by the browser on purpose: not a page error
        sign_in(driver, TOKEN)
        wait("the export page", lambda: driver.current_url.endswith("/export.html"))
        wait("the product", lambda: "682 tiles" in driver.find_element(By.ID, "record-info").text)
        driver.save_screenshot(os.path.join(OUT, "export-page.png"))

        # Draw a polygon over western Europe by clicking its corners, then finish it.
        driver.find_element(By.ID, "draw-polygon").click()
        for lat, lng in [(40, -5), (40, 15), (55, 15), (55, -5)]:
            click_map(driver, lat, lng)
        driver.find_element(By.ID, "finish-polygon").click()
        wait("one selection", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#selections li")) == 1)

        # Edit it: drag its first corner north-east, then keep the new shape.
        before = driver.execute_script("return requestBody().ROI.features[0].geometry.coordinates[0][0];")
        click(driver, "#selections li button.edit")
        handle = wait("a corner handle", lambda: driver.find_element(By.CSS_SELECTOR, ".vertex"))
        drag = ActionChains(driver).click_and_hold(handle)
        for _ in range(10):
            drag = drag.move_by_offset(4, -4)
        drag.release().perform()
        click(driver, "#selections li button.edit")
        after = driver.execute_script("return requestBody().ROI.features[0].geometry.coordinates[0][0];")
        if not (after[0] > before[0] and after[1] > before[1]):
            fail(f"dragging the corner moved it from {before} to {after}")
        report["edited"] = [before, after]

        # The estimate shown is the API's for the same request.
        shown = int(wait("the estimate", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles")))
        body = driver.execute_script("return requestBody();")
        expected = api("POST", "/export-tasks/estimate", body)["tiles"]
        if shown != expected or shown == 0:
            fail(f"the page shows {shown} tiles, the API estimates {expected}")
        report["drawnTiles"] = shown
        wait("the export button", lambda: driver.find_element(By.ID, "export").is_enabled())
        driver.find_element(By.ID, "export").click()
        first = int(wait("the task", lambda: driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]))
        wait("PENDING", lambda: task_status(driver, first) == "PENDING")

        # Pause and resume it from the page.
        click_action(driver, first, "pause")
        wait("PAUSED", lambda: task_status(driver, first) == "PAUSED")
        if api("GET", f"/export-tasks/{first}")["status"] != "PAUSED":
            fail("the page says PAUSED, the API does not")
        click_action(driver, first, "resume")
        wait("PENDING again", lambda: task_status(driver, first) == "PENDING")

        # Upload a MultiPolygon ROI and export it.
        clear_selections(driver)
        upload = os.path.join(OUT, "roi.geojson")
        with open(upload, "w") as file:
            json.dump({"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [
                [[[-80, 20], [-60, 20], [-60, 35], [-80, 35], [-80, 20]]],
                [[[100, -10], [120, -10], [120, 5], [100, 5], [100, -10]]],
            ]}}, file)
        driver.find_element(By.ID, "upload").send_keys(upload)
        wait("the uploaded selection", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#selections li")) == 1)
        uploaded = int(wait("the estimate of the upload", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles")))
        if uploaded != api("POST", "/export-tasks/estimate", driver.execute_script("return requestBody();"))["tiles"]:
            fail("the upload's estimate differs from the API's")
        wait("the export button", lambda: driver.find_element(By.ID, "export").is_enabled())
        driver.find_element(By.ID, "export").click()
        wait("two tasks", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")) == 2)
        second = int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1])
        roi = api("GET", f"/export-tasks/{second}")["ROI"]
        if roi["features"][0]["geometry"]["type"] != "MultiPolygon":
            fail(f"the uploaded ROI was sent as {roi}")
        report["tasks"] = [first, second]
        driver.save_screenshot(os.path.join(OUT, "export-queued.png"))
        check_console(driver, "the export page")

        # A narrow window still shows every control.
        driver.set_window_size(390, 844)
        if not driver.find_element(By.ID, "estimate").is_displayed():
            fail("the Estimate button is hidden in a 390-pixel window")
        driver.save_screenshot(os.path.join(OUT, "export-narrow.png"))
    finally:
        driver.quit()


def finish():
    driver = browser()
    try:
        sign_in(driver, TOKEN)
        wait("the export page", lambda: driver.current_url.endswith("/export.html"))
        tasks = json.loads(sys.argv[5])
        for task_id in tasks:
            wait(f"task {task_id} COMPLETED", lambda: task_status(driver, task_id) == "COMPLETED", timeout=120)
            value = driver.find_element(By.ID, f"progress-{task_id}").get_attribute("value")
            if value != "100":
                fail(f"task {task_id}'s progress bar shows {value}")
        link = driver.find_element(By.CSS_SELECTOR, f"#task-{tasks[0]} a.download[download$='.gpkg']")
        path = os.path.join(OUT, "download.gpkg")
        with urllib.request.urlopen(link.get_attribute("href"), timeout=60) as response, open(path, "wb") as file:
            file.write(response.read())
        report["download"] = path

        # A country from the outlines layer, by a click on its outline: it becomes a selection.
        outline = wait("a country outline", lambda: driver.find_element(By.CSS_SELECTOR, "path.country"))
        click_feature(driver, outline)
        use = wait("the country's button", lambda: driver.find_element(By.CSS_SELECTOR, ".leaflet-popup-content button.use-country"))
        report["country"] = use.get_attribute("textContent")
        use.click()
        wait("the country's selection", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#selections li")) == 1)
        wait("the country's estimate", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles"))
        clear_selections(driver)

        # Pause and resume a running export: the whole footprint, paced by the server to 100 tiles a second.
        driver.find_element(By.ID, "use-footprint").click()
        wait("the footprint's estimate", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles"))
        wait("the export button", lambda: driver.find_element(By.ID, "export").is_enabled())
        driver.find_element(By.ID, "export").click()
        running = wait("the new task", lambda: int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]) not in tasks
                       and int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]))
        wait("it to run", lambda: task_status(driver, running) == "IN_PROGRESS"
             and int(driver.find_element(By.ID, f"progress-{running}").get_attribute("value")) > 0)
        click_action(driver, running, "pause")
        wait("PAUSED at a checkpoint", lambda: task_status(driver, running) == "PAUSED", timeout=30)
        paused = api("GET", f"/export-tasks/{running}")
        if paused["status"] != "PAUSED" or not 0 < paused["progress"] < 100:
            fail(f"the paused export is {paused['status']} at {paused['progress']} %")
        report["pausedAt"] = paused["progress"]
        click_action(driver, running, "resume")
        wait("the resumed export to complete", lambda: task_status(driver, running) == "COMPLETED", timeout=120)
        if driver.find_element(By.ID, f"progress-{running}").get_attribute("value") != "100":
            fail("the resumed export's progress bar did not reach 100")
        click(driver, f"#task-{tasks[0]} button.show")
        wait("the exported footprint", lambda: driver.find_element(By.CSS_SELECTOR, "path.exported-footprint"))
        driver.save_screenshot(os.path.join(OUT, "export-done.png"))

        # A 3D product (issue #13): the whole layer, by its footprint, exported as a zip of the tileset.
        clear_selections(driver)
        record = next(r for r in api("GET", "/catalog/records") if r["domain"] == "3D")
        Select(driver.find_element(By.ID, "record")).select_by_value(record["id"])
        wait("the 3D product", lambda: "3D Tiles tileset" in driver.find_element(By.ID, "record-info").text)
        driver.find_element(By.ID, "use-footprint").click()
        if driver.find_elements(By.CSS_SELECTOR, "#selections li select"):
            fail("a 3D selection offers zoom levels")
        tiles = int(wait("the 3D estimate", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles")))
        wait("the export button", lambda: driver.find_element(By.ID, "export").is_enabled())
        driver.find_element(By.ID, "export").click()
        known = set(tasks) | {running}
        three_d = wait("the 3D task", lambda: int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]) not in known
                       and int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]))
        wait("the 3D export to complete", lambda: task_status(driver, three_d) == "COMPLETED", timeout=60)
        link = wait("the zip's link", lambda: driver.find_element(By.CSS_SELECTOR, f"#task-{three_d} a.download[download$='.zip']"))
        with urllib.request.urlopen(link.get_attribute("href"), timeout=60) as response:
            if response.read(2) != b"PK":
                fail("the 3D download is not a zip")
        report["threeD"] = {"task": three_d, "tiles": tiles}
        driver.save_screenshot(os.path.join(OUT, "export-3d.png"))

        # A DEM (issue #13): one selection, FLOAT32 and bilinear, exported as a gridded coverage.
        clear_selections(driver)
        record = next(r for r in api("GET", "/catalog/records") if r["domain"] == "DEM")
        Select(driver.find_element(By.ID, "record")).select_by_value(record["id"])
        wait("the DEM product", lambda: "a DEM" in driver.find_element(By.ID, "record-info").text)
        Select(driver.find_element(By.ID, "dem-data-type")).select_by_value("FLOAT32")
        Select(driver.find_element(By.ID, "dem-resampling")).select_by_value("bilinear")
        driver.find_element(By.ID, "use-footprint").click()
        driver.find_element(By.ID, "use-footprint").click()
        wait("one DEM selection", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#selections li")) == 1)
        body = driver.execute_script("return requestBody();")
        if body.get("parameters", {}).get("dataType") != "FLOAT32" or body["parameters"].get("resampleMethod") != "bilinear":
            fail(f"the DEM request carries {body.get('parameters')}")
        dem_tiles = int(wait("the DEM estimate", lambda: driver.find_element(By.ID, "estimate-result").get_attribute("data-tiles")))
        wait("the export button", lambda: driver.find_element(By.ID, "export").is_enabled())
        driver.find_element(By.ID, "export").click()
        known.add(three_d)
        dem_task = wait("the DEM task", lambda: int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]) not in known
                        and int(driver.find_element(By.CSS_SELECTOR, "#tasks tbody tr").get_attribute("id").split("-")[1]))
        wait("the DEM export to complete", lambda: task_status(driver, dem_task) == "COMPLETED", timeout=60)
        link = wait("the coverage's link", lambda: driver.find_element(By.CSS_SELECTOR, f"#task-{dem_task} a.download[download$='.gpkg']"))
        path = os.path.join(OUT, "dem.gpkg")
        with urllib.request.urlopen(link.get_attribute("href"), timeout=60) as response, open(path, "wb") as file:
            file.write(response.read())
        report["dem"] = {"task": dem_task, "tiles": dem_tiles, "download": path}
        driver.save_screenshot(os.path.join(OUT, "export-dem.png"))
        check_console(driver, "the export page")

        driver.get(BASE + "/ui/replication.html")
        wait("the layer", lambda: driver.find_element(By.CSS_SELECTOR, "#layer option"))
        delta = wait("a delta", lambda: [b for b in driver.find_elements(By.CSS_SELECTOR, "#chain button") if "delta" in b.text][0])
        delta.click()
        summary = wait("the opened delta", lambda: driver.find_element(By.ID, "opened").text if "created" in driver.find_element(By.ID, "opened").text else None)
        report["delta"] = summary
        created = driver.find_elements(By.CSS_SELECTOR, "path.feature-created")
        modified = driver.find_elements(By.CSS_SELECTOR, "path.feature-modified")
        deleted = driver.find_elements(By.CSS_SELECTOR, "#deleted li")
        if not created or not modified or not deleted:
            fail(f"the delta shows {len(created)} created, {len(modified)} modified, {len(deleted)} deleted")
        colour = modified[0].get_attribute("stroke")
        if colour.lower() != "#b9770e":
            fail(f"a modified feature is drawn in {colour}")
        click_feature(driver, modified[0])
        popup = wait("the diff popup", lambda: driver.find_element(By.CSS_SELECTOR, ".leaflet-popup-content .diff").text)
        if "changedTags" not in popup:
            fail(f"the popup shows {popup!r}")
        report["popup"] = popup
        driver.save_screenshot(os.path.join(OUT, "replication-page.png"))
        check_console(driver, "the replication page")
    finally:
        driver.quit()


{"queue": queue, "finish": finish}[PHASE]()
print(json.dumps({"ok": True, **report}), flush=True)
