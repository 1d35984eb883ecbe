"""The MSI's tables as wixl built them (msiinfo export): the custom actions
between InstallServices and StartServices in that order, deferred as
LocalSystem with the register action's data hidden; the secrets in
MsiHiddenProperties; the service as the README documents it; both packages
under one UpgradeCode with the downgrade refused; a DLL that needs no runtime
beside it. wixl sequences by After= unreliably: this is what catches it."""

import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import SKIP  # noqa: E402


def skip(reason):
    print(f"SKIPPED: {reason}", flush=True)
    raise SystemExit(SKIP)


WIN_BUILD = os.environ.get("CBCS_WINDOWS_BUILD_DIR", "")
if not shutil.which("msiinfo"):
    skip("msiinfo (msitools) is not installed")
# packaging/windows/build.sh writes why it could not cross-build here.
_unavailable = os.path.join(WIN_BUILD, "UNAVAILABLE") if WIN_BUILD else ""
if _unavailable and os.path.exists(_unavailable):
    with open(_unavailable) as fh:
        skip(fh.read().strip())
MSIS = sorted(glob.glob(os.path.join(WIN_BUILD, "packages", "cbcs-*-x64.msi"))) if WIN_BUILD else []
if len(MSIS) < 2:
    skip(f"no MSI in '{WIN_BUILD}/packages' (the Windows cross build makes them: packaging/windows/build.sh)")

UPGRADE_CODE = "{16E27E0F-0F33-4381-A574-44DE10C66932}"
DEFERRED, NO_IMPERSONATE, HIDE_TARGET, DLL_IN_BINARY = 1024, 2048, 8192, 1


def table(msi, name):
    """Rows of an exported table as dicts (msiinfo's idt: names, types, key line, rows)."""
    out = subprocess.run(["msiinfo", "export", msi, name], capture_output=True, text=True,
                         check=True).stdout
    lines = out.split("\n")
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[3:] if line]


def version_of(msi):
    return re.search(r"cbcs-(\d+\.\d+\.\d+)-x64\.msi$", msi).group(1)


class MsiTablesTest(unittest.TestCase):
    def test_custom_actions_are_sequenced_between_install_and_start_services(self):
        for msi in MSIS:
            seq = {r["Action"]: (int(r["Sequence"]), r["Condition"])
                   for r in table(msi, "InstallExecuteSequence")}
            order = ["InstallValidate", "RemoveExistingProducts", "InstallInitialize", "CbcsStopService",
                     "StopServices", "DeleteServices", "InstallFiles", "InstallServices", "CbcsConfigureService",
                     "CbcsPackRegisterData", "CbcsRegister", "StartServices", "InstallFinalize"]
            numbers = [seq[a][0] for a in order]
            self.assertEqual(numbers, sorted(numbers), f"{msi}: {dict(zip(order, numbers))}")
            self.assertEqual(len(set(numbers)), len(numbers))
            for action in ("CbcsConfigureService", "CbcsPackRegisterData", "CbcsRegister"):
                self.assertEqual(seq[action][1], 'NOT REMOVE~="ALL"', action)
            # When the component is removed (2) or installed (3): not on a rerun that changes nothing.
            self.assertEqual(seq["CbcsStopService"][1], "$cbcs_service=2 OR $cbcs_service=3")

    def test_custom_action_types(self):
        for msi in MSIS:
            ca = {r["Action"]: r for r in table(msi, "CustomAction")}
            for action in ca.values():
                self.assertEqual(action["Source"], "cbcs_msi_register")
                self.assertEqual(action["Target"], action["Action"])  # the DLL's export
            self.assertEqual(int(ca["CbcsPackRegisterData"]["Type"]) & DEFERRED, 0)
            self.assertEqual(int(ca["CbcsRegister"]["Type"]),
                             DLL_IN_BINARY | DEFERRED | NO_IMPERSONATE | HIDE_TARGET)
            for action in ("CbcsConfigureService", "CbcsStopService"):
                self.assertEqual(int(ca[action]["Type"]), DLL_IN_BINARY | DEFERRED | NO_IMPERSONATE)

    def test_properties_service_and_upgrade(self):
        codes = set()
        for msi in MSIS:
            props = {r["Property"]: r["Value"] for r in table(msi, "Property")}
            self.assertEqual(set(props["MsiHiddenProperties"].split(";")),
                             {"TOKEN", "PROXY_PASSWORD", "CbcsRegister"})
            self.assertEqual(props["UpgradeCode"], UPGRADE_CODE)
            self.assertEqual(props["ProductVersion"], version_of(msi))
            self.assertEqual(props["ALLUSERS"], "1")
            codes.add(props["ProductCode"])
            for secret in ("TOKEN", "PROXY_PASSWORD"):
                self.assertNotIn(secret, props, "a default value for a secret")

            [svc] = table(msi, "ServiceInstall")
            self.assertEqual((svc["Name"], svc["DisplayName"], svc["StartName"]),
                             ("CBCS", "CA Backend Connector Service", "LocalSystem"))
            self.assertEqual(int(svc["ServiceType"]), 0x10)  # own process
            self.assertEqual(int(svc["StartType"]), 2)  # auto
            self.assertEqual(svc["Arguments"], 'run --data-dir "[CommonAppDataFolder]CBCS"')
            [ctl] = table(msi, "ServiceControl")
            # start on install (1), stop on install (2) and uninstall (32), delete on uninstall (128)
            self.assertEqual((ctl["Name"], int(ctl["Event"]), ctl["Wait"]), ("CBCS", 1 | 2 | 32 | 128, "1"))

            # The Event Log source (HKLM is root 2); integers are stored as #n;
            # wixl ends the key with a backslash.
            source = r"SYSTEM\CurrentControlSet\Services\EventLog\Application\CBCS"
            values = {r["Name"]: r["Value"] for r in table(msi, "Registry")
                      if r["Root"] == "2" and r["Key"].rstrip("\\") == source}
            self.assertEqual(values, {"EventMessageFile": "[INSTALLDIR]cbcs.exe",
                                      "TypesSupported": "#7"})

            dirs = {r["Directory"]: r for r in table(msi, "Directory")}
            self.assertEqual(dirs["INSTALLDIR"]["Directory_Parent"], "ProgramFiles64Folder")
            self.assertEqual(dirs["INSTALLDIR"]["DefaultDir"], "CBCS")
            self.assertNotIn("CommonAppDataFolder", dirs, "the package must not own the data directory")

            upgrade = table(msi, "Upgrade")
            downgrade = [r for r in upgrade if r["ActionProperty"] == "WIX_DOWNGRADE_DETECTED"]
            self.assertEqual([r["VersionMin"] for r in downgrade], [version_of(msi)])
            conditions = {r["Condition"]: r["Description"] for r in table(msi, "LaunchCondition")}
            self.assertIn("A newer version of the CA Backend Connector Service is already installed",
                          conditions["NOT WIX_DOWNGRADE_DETECTED"])
        self.assertEqual(len(codes), len(MSIS), "each package has its own ProductCode")

    def test_the_dll_needs_only_system_dlls(self):
        objdump = shutil.which("x86_64-w64-mingw32-objdump")
        dll = os.path.join(WIN_BUILD, "cbcs_msi_register.dll")
        if not objdump or not os.path.exists(dll):
            self.skipTest("no objdump or no cbcs_msi_register.dll")
        out = subprocess.run([objdump, "-p", dll], capture_output=True, text=True, check=True).stdout
        imports = {m.lower() for m in re.findall(r"DLL Name: (\S+)", out)}
        self.assertLessEqual(imports, {"kernel32.dll", "advapi32.dll", "msi.dll", "msvcrt.dll",
                                       "user32.dll"})
        for export in ("CbcsPackRegisterData", "CbcsRegister", "CbcsConfigureService",
                       "CbcsStopService"):
            self.assertRegex(out, rf"\]\s+{export}\b")


if __name__ == "__main__":
    unittest.main()
