"""`custodian` with the Huawei Cloud provider loaded.

PyPI's c7n (0.9.53) does not list `huaweicloud` among the providers it discovers
(Huawei's fork of Custodian does), so the provider is initialised here before the
ordinary command line runs. Usage: python run_custodian.py run -s OUT policy.yml
"""

import sys

from c7n_huaweicloud.entry import initialize_huaweicloud

initialize_huaweicloud()
import c7n_huaweicloud.resources.kms  # noqa: E402,F401  (registers huaweicloud.kms)
from c7n.cli import main  # noqa: E402

sys.exit(main())
