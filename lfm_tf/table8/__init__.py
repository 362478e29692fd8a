"""Table 8 of Choi & Song (2020), Sections IV-B and V-B/C: recognition by
expression strength, and the adaptive framework of Fig. 4.

Everything that only this part of the paper needs lives here, one module a step:

  fme          the micro-expression (FME) set synthesized from CK+ (Section V-B);
               `python -m lfm_tf.synthesize_fme`
  ckplus_fge, ckplus_fme, ckplus_mixed
               dataset readers: CK+ as it is (FGE), the synthesized FME tree, and a
               seeded 50:50 mix (registered in `lfm_tf.datasets.READERS`)
  crops        eye-aligned face crops, stored by `preprocess --crops`
  ifer         the image-based FER (I-FER) that reads them
  adaptive     SFEM (Eq. 3) routing between LFM-FER and I-FER (Fig. 4); `predict
               --ifer_model` uses it on people's recordings
  runner       the Table 8 runner; `python -m lfm_tf.table8` (`__main__`)

The core path (readers -> landmarks -> maps -> TFRecords -> models -> protocols)
does not depend on this package, except that preprocessing stores crops and
prediction routes when asked to.
"""
