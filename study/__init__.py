"""The study's shared building blocks; the pipeline's stages (`stages/`) are built from them.

    dataset        the facts of Fashion-MNIST: image size, classes, file names
    fashion_mnist  where the files come from, and their checksums
    idx            the IDX file format
    params         reads and checks params.yaml
    artifacts      every file the stages exchange: its path and its reader/writer
    files          atomic writes, the .npz splits
    models         the one model builder, every variant from one spec
    fitting        seeded, resumable training
    evaluation     test-set measures and figures
    statistics     intervals and tests
    flops          the arithmetic of a model (python -m study.flops)
    predict        classify your own images (python -m study.predict)
    report/        the parts of the study report (stage report)
"""
