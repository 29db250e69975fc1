"""A no-op Hydra app: the job Hydra's multirun launches in the sweep benchmark."""
import hydra
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(config: DictConfig) -> None:
    pass


if __name__ == "__main__":
    main()
