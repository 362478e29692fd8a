"""lfm_tf: facial micro-expression recognition with 2-D landmark feature maps.

Choi & Song, "Facial Micro-Expression Recognition Using Two-Dimensional Landmark
Feature Maps", IEEE Access 8 (2020). The data path, one module per step:
datasets (readers) -> landmarks -> features (Eq. 1-3) -> tfrecords (schema) ->
pipeline (Beam preprocessing) -> input_pipeline (tf.data) -> models (Tables 1-2)
-> protocols -> report.
"""

__version__ = "0.1.0"
