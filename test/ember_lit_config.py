# lit configuration (loaded by the generated lit.site.cfg.py; not named lit.cfg.py so that lit
# does not take test/ for a nested suite): every .mlir file under dialects/ and compiler/ is a test
import os
import lit.formats

config.name = "ember"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = config.ember_src_root
config.test_exec_root = os.path.join(os.path.dirname(config.ember_tools_dir), "test", "lit-out")
# Names excluded at any depth (lit matches basenames): keep "test" out of this list.
config.excludes = ["build", "bench", "docs", "examples", "scripts", "frontend", "runtime",
                   "kernels", ".git", ".ci", "Inputs"]
config.environment["PATH"] = os.pathsep.join(
    [config.ember_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
